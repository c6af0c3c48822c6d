"""Worker heartbeats (pk `WORKER#{worker_id}`, sk `HEARTBEAT`), listed under gsi2 `WORKERS`.

The one place that knows how a heartbeat is keyed: the worker writes through `beat`, the
API's `voice/info` reads through `list_workers`. Timestamps are stored as ISO 8601 strings
(`voxify.clock.iso`), `expires_at` as epoch seconds for DynamoDB's TTL.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from voxify.clock import epoch, iso, now_iso
from voxify.domain.workers import WorkerHeartbeat, WorkerState
from voxify.repositories.base import TableRepository

WORKERS_PARTITION = "WORKERS"


def heartbeat_key(worker_id: str) -> dict[str, str]:
    return {"pk": f"WORKER#{worker_id}", "sk": "HEARTBEAT"}


class HeartbeatRepository(TableRepository):
    def beat(
        self, worker_id: str, engine: str, state: WorkerState, started_at: datetime, expires_in: float
    ) -> WorkerHeartbeat:
        """Write this worker's beat as of now; the record expires `expires_in` seconds on."""
        item: dict[str, Any] = {
            **heartbeat_key(worker_id),
            "gsi2pk": WORKERS_PARTITION,
            "gsi2sk": worker_id,
            "worker_id": worker_id,
            "engine": engine,
            "state": WorkerState(state).value,
            "started_at": iso(started_at),
            "last_seen": now_iso(),
            "expires_at": epoch() + round(expires_in),
        }
        self._put(item)
        return WorkerHeartbeat.model_validate(item)

    def list_workers(self) -> list[WorkerHeartbeat]:
        """Every worker with a heartbeat record, stale or stopped ones included."""
        return [WorkerHeartbeat.model_validate(item) for item in self._query_index("gsi2", WORKERS_PARTITION)]
