"""Contract tests: each specification document's requests, as written, against the real app
over the emulated stack, with the real worker on the default engine."""

from tests.integration.conftest import engine, worker

__all__ = ["engine", "worker"]
