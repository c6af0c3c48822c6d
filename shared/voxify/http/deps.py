"""FastAPI dependencies, named: who is calling (`CurrentUser`, `AdminUser`), how often
(counted against the per-minute limit), and which page of a list (`Page`, `AdminPage`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from voxify.domain.users import Role
from voxify.errors import ErrorCode, VoxifyError
from voxify.http.envelope import PageRequest
from voxify.logic import usage
from voxify.logic.auth import Principal, authenticate
from voxify.observability import logger

bearer = HTTPBearer(auto_error=False, description="an access token or an API key (vx_...)")


def current_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Principal:
    """Authenticates, then counts the request against the caller's per-minute limit."""
    if credentials is None:
        raise VoxifyError(
            ErrorCode.UNAUTHORIZED,
            "send Authorization: Bearer <token or API key>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    principal = authenticate(credentials.credentials)
    logger.append_keys(user_id=principal.user_id)
    rate = usage.count_request(principal.user_id)
    request.state.rate_limit = rate
    rate.enforce()
    return principal


CurrentUser = Annotated[Principal, Depends(current_principal)]


def require_admin(principal: CurrentUser) -> Principal:
    if principal.role != Role.ADMIN:
        raise VoxifyError(ErrorCode.FORBIDDEN, "administrators only")
    return principal


AdminUser = Annotated[Principal, Depends(require_admin)]


def _page_params(default: int, maximum: int) -> type[PageRequest]:
    """A dependency class reading `limit` (default, at most `maximum`) and `offset`."""

    class Params(PageRequest):
        def __init__(self, limit: int = Query(default, ge=1, le=maximum), offset: int = Query(0, ge=0)) -> None:
            super().__init__(limit, offset)

    return Params


Page = Annotated[PageRequest, Depends(_page_params(20, 100))]
AdminPage = Annotated[PageRequest, Depends(_page_params(50, 500))]
DeliveryPage = Annotated[PageRequest, Depends(_page_params(50, 200))]
