"""The inference worker: consumes the work queues and runs the engines."""
