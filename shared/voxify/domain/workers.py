"""Workers as the API sees them: the heartbeat each worker process writes every few seconds."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class WorkerState(StrEnum):
    LOADING = "loading"  # started, engine and encoder still loading
    RUNNING = "running"  # taking work
    STOPPED = "stopped"  # stopped cleanly; its record ages out


class WorkerHeartbeat(BaseModel):
    """One worker's latest beat. `last_seen` is what readers judge liveness by: the emulator
    does not reap TTL, so an expired record can still be read."""

    model_config = ConfigDict(extra="ignore")  # items also carry the table keys

    worker_id: str
    engine: str | None = Field(default=None, description="`name:model` once loaded, the engine's name before")
    state: WorkerState
    started_at: datetime
    last_seen: datetime
    expires_at: int = Field(description="epoch seconds; DynamoDB TTL removes the record after it")

    def seconds_since(self, now: datetime) -> float:
        """How long ago the worker last beat, as of `now` (timezone-aware)."""
        return (now - self.last_seen).total_seconds()
