"""Synthesis jobs and their state machine."""

from enum import StrEnum

TERMINAL = frozenset({"completed", "failed", "cancelled"})


class JobStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self.value in TERMINAL
