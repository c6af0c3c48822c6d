"""The local stack: embedded AWS emulator, resources from template.yaml, and runners."""
