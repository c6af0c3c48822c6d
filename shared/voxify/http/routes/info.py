"""/api/v1/voice/models and /api/v1/voice/info: what can run, and what is running."""

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends

from voxify.catalog import engine_catalog
from voxify.http.deps import current_principal
from voxify.http.envelope import Envelope, ok
from voxify.logic.auth import Principal
from voxify.queue import WorkQueue
from voxify.repositories.base import TableRepository
from voxify.repositories.runtime_config import RuntimeConfigRepository

router = APIRouter(prefix="/api/v1/voice", tags=["info"])
HEARTBEAT_STALE_SECONDS = 60


@router.get("/models", response_model=Envelope[dict[str, Any]])
def models(principal: Principal = Depends(current_principal)) -> dict:
    """Engines, their models, and per language the support level (native/specialized/fallback)."""
    engines = [{"name": name, "description": spec["description"], "base_model": spec["base_model"],
                "languages": [{"code": code, **entry} for code, entry in spec["languages"].items()]}
               for name, spec in engine_catalog().items()]
    return ok({"engines": engines, "default_engine": RuntimeConfigRepository().current()["default_engine"]})


@router.get("/info", response_model=Envelope[dict[str, Any]])
def info(principal: Principal = Depends(current_principal)) -> dict:
    """Queue depth and the workers' heartbeats (a worker silent for a minute is shown stale)."""
    now = datetime.now(UTC)
    workers = []
    for beat in TableRepository()._query_index("gsi2", "WORKERS"):
        age = (now - datetime.fromisoformat(beat["last_seen"])).total_seconds()
        workers.append({"worker_id": beat["worker_id"], "engine": beat.get("engine"),
                        "state": beat.get("state") if age < HEARTBEAT_STALE_SECONDS else "stale",
                        "last_seen": beat["last_seen"], "seconds_since_heartbeat": round(age, 1)})
    queue = WorkQueue()
    return ok({"queue": queue.depth("synthesis"), "sample_queue": queue.depth("sample"),
               "workers": workers,
               "engine": RuntimeConfigRepository().current()["default_engine"]})
