"""FastAPI dependencies: who is calling, whether they may, and how often."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from voxify.domain.users import Role
from voxify.errors import ErrorCode, VoxifyError
from voxify.logic.auth import Principal, authenticate
from voxify.observability import logger
from voxify.repositories.runtime_config import RuntimeConfigRepository
from voxify.repositories.usage import UsageRepository

bearer = HTTPBearer(auto_error=False, description="an access token or an API key (vx_...)")


def current_principal(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)
) -> Principal:
    """Authenticates, then counts the request against the caller's per-minute limit."""
    if credentials is None:
        raise VoxifyError(ErrorCode.UNAUTHORIZED, "send Authorization: Bearer <token or API key>",
                          headers={"WWW-Authenticate": "Bearer"})
    principal = authenticate(credentials.credentials)
    logger.append_keys(user_id=principal.user_id)
    limit = RuntimeConfigRepository().current()["rate_limit_per_minute"]
    count, reset_in = UsageRepository().count_request(principal.user_id)
    request.state.rate_limit = (limit, max(0, limit - count), reset_in)
    if count > limit:
        raise VoxifyError(ErrorCode.RATE_LIMITED, f"more than {limit} requests in a minute",
                          {"limit": limit, "retry_after_seconds": reset_in},
                          headers={"Retry-After": str(max(1, reset_in))})
    return principal


def require_admin(principal: Principal = Depends(current_principal)) -> Principal:
    if principal.role != Role.ADMIN:
        raise VoxifyError(ErrorCode.FORBIDDEN, "administrators only")
    return principal


def take_daily_quota(user_id: str, kind: str) -> str:
    """Spend one unit of today's `kind` quota (sample, job); returns the day it counted on."""
    config = RuntimeConfigRepository().current()
    limit = int(config[f"daily_{kind}_quota"])
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    if not UsageRepository().take_quota(user_id, kind, day, limit):
        raise VoxifyError(ErrorCode.QUOTA_EXCEEDED, f"daily {kind} quota of {limit} is used up",
                          {"quota": limit, "kind": kind},
                          headers={"Retry-After": str(_seconds_to_midnight())})
    return day


T = TypeVar("T")


def with_daily_quota(user_id: str, kind: str, create: Callable[[], T]) -> T:
    """Run a create that costs one unit of today's quota; a create that fails costs nothing."""
    day = take_daily_quota(user_id, kind)
    try:
        return create()
    except Exception:
        UsageRepository().give_back_quota(user_id, kind, day)
        raise


def _seconds_to_midnight() -> int:
    now = datetime.now(UTC)
    return 86400 - (now.hour * 3600 + now.minute * 60 + now.second)
