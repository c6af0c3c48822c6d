"""FastAPI dependencies: who is calling, whether they may, and how often."""

from __future__ import annotations

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
