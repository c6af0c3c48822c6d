"""What can run and what is running: the engine catalog, queue depths, worker heartbeats."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from voxify.catalog import engine_catalog, region_tags
from voxify.clock import iso
from voxify.queue import WorkQueue
from voxify.repositories.heartbeats import HeartbeatRepository
from voxify.repositories.runtime_config import RuntimeConfigRepository

HEARTBEAT_STALE_SECONDS = 60


def models() -> dict[str, Any]:
    """Engines, their models, and per language the support level (native/specialized/fallback)."""
    engines = [
        {
            "name": name,
            "description": spec["description"],
            "base_model": spec["base_model"],
            "languages": [
                {"code": code, **entry, "regions": region_tags(code)} for code, entry in spec["languages"].items()
            ],
        }
        for name, spec in engine_catalog().items()
    ]
    return {"engines": engines, "default_engine": RuntimeConfigRepository().current().default_engine}


def workers() -> list[dict[str, Any]]:
    """Every worker's last heartbeat; one silent for a minute is shown `stale`."""
    now = datetime.now(UTC)
    shown = []
    for beat in HeartbeatRepository().list_workers():
        age = beat.seconds_since(now)
        shown.append(
            {
                "worker_id": beat.worker_id,
                "engine": beat.engine,
                "state": beat.state.value if age < HEARTBEAT_STALE_SECONDS else "stale",
                "last_seen": iso(beat.last_seen),
                "seconds_since_heartbeat": round(age, 1),
            }
        )
    return shown


def status() -> dict[str, Any]:
    """Queue depths, the workers and the engine jobs run with by default."""
    queue = WorkQueue()
    return {
        "queue": queue.depth("synthesis"),
        "sample_queue": queue.depth("sample"),
        "workers": workers(),
        "engine": RuntimeConfigRepository().current().default_engine,
    }
