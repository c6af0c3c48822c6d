"""FastAPI dependencies, named: who is calling (`CurrentUser`, `AdminUser`), what an API key
may reach (`require_scope`, `AccountUser`), how often (counted against the per-minute limit),
from where (`client_ip`), and which page of a list (`Page`, `AdminPage`).

Scopes. A session (access token) passes every scope check; an API key passes those its
scopes name (voxify.domain.users.Scope; `read` passes GET and HEAD of every group but admin).
A router declares its group once:

    router = APIRouter(prefix=..., dependencies=[Depends(require_scope(Scope.JOBS))])

The principal is cached per request, so the route's own `CurrentUser` is the same one and the
request is counted once: a read in this process, a write in the shared table, and a route
marked `@counts_own_request` (a job create) inside its own transaction (voxify.logic.usage).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from voxify.domain.users import Role, Scope
from voxify.errors import ErrorCode, VoxifyError
from voxify.http.envelope import PageRequest
from voxify.logic import usage
from voxify.logic.auth import READ_METHODS, Principal, authenticate
from voxify.observability import logger

bearer = HTTPBearer(auto_error=False, description="an access token or an API key (vx_...)")
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])
_SELF_COUNTING: set[Callable[..., Any]] = set()


def counts_own_request(endpoint: Endpoint) -> Endpoint:
    """Mark a route that counts its request against the per-minute limit itself, in the
    transaction of what it creates, so that the request costs no separate write."""
    _SELF_COUNTING.add(endpoint)
    return endpoint


def current_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Principal:
    """Authenticates, then counts the request against the caller's per-minute limit (unless
    the route counts it itself)."""
    if credentials is None:
        raise VoxifyError(
            ErrorCode.UNAUTHORIZED,
            "send Authorization: Bearer <token or API key>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    principal = authenticate(credentials.credentials)
    logger.append_keys(user_id=principal.user_id)
    if request.scope.get("endpoint") in _SELF_COUNTING:
        return principal
    if request.method in READ_METHODS:
        rate = usage.count_read(principal.user_id)
    else:
        rate = usage.count_request(principal.user_id)
    request.state.rate_limit = rate
    rate.enforce()
    return principal


CurrentUser = Annotated[Principal, Depends(current_principal)]


def require_scope(scope: Scope) -> Callable[[Request, Principal], Principal]:
    """A dependency: the caller, refused (403 FORBIDDEN) when an API key lacks `scope`."""

    def check_scope(request: Request, principal: CurrentUser) -> Principal:
        if not principal.allows(scope, request.method):
            raise VoxifyError(
                ErrorCode.FORBIDDEN, f"this API key lacks the {scope.value} scope", {"required_scope": scope.value}
            )
        return principal

    return check_scope


AccountUser = Annotated[Principal, Depends(require_scope(Scope.ACCOUNT))]


def require_admin(request: Request, principal: CurrentUser) -> Principal:
    """An administrator; through an API key, one with the admin scope."""
    if principal.role != Role.ADMIN:
        raise VoxifyError(ErrorCode.FORBIDDEN, "administrators only")
    return require_scope(Scope.ADMIN)(request, principal)


AdminUser = Annotated[Principal, Depends(require_admin)]


def client_ip(request: Request) -> str:
    """The caller's address, for the throttles. Behind API Gateway's HTTP API, Mangum puts the
    event's `requestContext.http.sourceIp` (the TCP peer API Gateway saw) in the ASGI client;
    locally it is uvicorn's peer. X-Forwarded-For is not read: the caller writes it."""
    if request.client and request.client.host:
        return request.client.host
    event = request.scope.get("aws.event") or {}
    context = event.get("requestContext", {})
    return str(context.get("http", {}).get("sourceIp") or context.get("identity", {}).get("sourceIp") or "unknown")


def _page_params(default: int, maximum: int) -> type[PageRequest]:
    """A dependency class reading `limit` (default, at most `maximum`) and `offset`."""

    class Params(PageRequest):
        def __init__(self, limit: int = Query(default, ge=1, le=maximum), offset: int = Query(0, ge=0)) -> None:
            super().__init__(limit, offset)

    return Params


Page = Annotated[PageRequest, Depends(_page_params(20, 100))]
AdminPage = Annotated[PageRequest, Depends(_page_params(50, 500))]
DeliveryPage = Annotated[PageRequest, Depends(_page_params(50, 200))]
