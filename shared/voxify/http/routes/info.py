"""/api/v1/voice/models and /api/v1/voice/info: what can run, and what is running."""

from typing import Any

from fastapi import APIRouter, Depends

from voxify.domain.users import Scope
from voxify.http.deps import CurrentUser, require_scope
from voxify.http.envelope import Answer, Envelope, ok
from voxify.logic import service_status

router = APIRouter(prefix="/api/v1/voice", tags=["info"], dependencies=[Depends(require_scope(Scope.VOICES))])


@router.get("/models", response_model=Envelope[dict[str, Any]])
def models(principal: CurrentUser) -> Answer:
    """Engines, their models, and per language the support level (native/specialized/fallback)."""
    return ok(service_status.models())


@router.get("/info", response_model=Envelope[dict[str, Any]])
def info(principal: CurrentUser) -> Answer:
    """Queue depth and the workers' heartbeats (a worker silent for a minute is shown stale)."""
    return ok(service_status.status())
