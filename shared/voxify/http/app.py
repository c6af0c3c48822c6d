"""FastAPI application factory.

One app serves both worlds: uvicorn on 127.0.0.1:8000 in the local stack and Mangum behind
API Gateway's HTTP API in the cloud (functions/api/handler.py). Every response, errors
included, uses the envelope of voxify.http.envelope.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from voxify import __version__
from voxify.errors import ErrorCode, VoxifyError
from voxify.http.envelope import Answer, Envelope, error_envelope, ok
from voxify.http.routes import MountRouters, OnDemandRouters
from voxify.observability import logger
from voxify.settings import get_settings

DESCRIPTION = """
Voxify turns a few seconds of a consenting speaker's voice into a voice clone and
synthesises any text in that voice.

* Every response uses one envelope: `{success, data, message, error{code, message, details}, meta, timestamp}`.
  Clients match on `error.code`, which is stable.
* Authenticate with `Authorization: Bearer <access token>` (from `/api/v1/auth/login`, or
  the **Authorize** button here) or with an API key (`vx_...`).
* Creates honour `Idempotency-Key`: a retry with the same key returns the first result.
* 100 requests a minute per user; 429 answers carry `Retry-After`.
* `GET /api/v1/job/{id}/progress` is a Server-Sent-Events stream of unnamed events
  (`EventSource.onmessage`), ending with `{"event": "complete"}`. Behind API Gateway a
  response cannot stream for ever: the stream ends after about 25 s and the client
  reconnects with `Last-Event-ID` (EventSource does this by itself).
* The APIs of the other specification documents are served too, each under its own tag,
  with its own shapes and errors (`/voices`; `/token`, `/tts`, `/status`, `/result`;
  `/api/auth`, `/api/samples`, `/api/generation`, `/api/library`): see docs/compatibility.md.
"""

_STATUS_CODES = {
    401: ErrorCode.UNAUTHORIZED,
    403: ErrorCode.FORBIDDEN,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
    415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
}


class Health(Envelope[dict[str, Any]]):
    status: str = "ok"
    service: str = "voxify"


def create_app() -> FastAPI:
    settings = get_settings()
    # every error answers the same envelope; clients match on error.code (errors.py)
    errors: dict[int | str, dict[str, Any]] = {
        "4XX": {"model": Envelope[None], "description": "error envelope; match on error.code"}
    }
    app = FastAPI(
        title="Voxify",
        version=__version__,
        description=DESCRIPTION,
        responses=errors,
        docs_url="/docs",
        redoc_url="/redoc",
        openapi_url="/openapi.json",
    )
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_allow_origins,
        allow_methods=["*"],
        allow_headers=["*"],
        expose_headers=["Retry-After", "X-Request-Id", "X-RateLimit-Remaining"],
    )
    app.middleware("http")(request_context)
    app.exception_handler(VoxifyError)(voxify_error)
    app.exception_handler(RequestValidationError)(validation_error)
    app.exception_handler(StarletteHTTPException)(http_error)
    app.exception_handler(Exception)(unexpected_error)

    @app.get("/health", response_model=Health, tags=["info"])
    def health() -> Answer:
        """Liveness: answers without authentication and without touching AWS. The envelope
        carries `status` and `service` at the top too, as the /voices and /tts documents read them."""
        return {
            **ok({"status": "ok", "version": __version__, "stage": settings.stage}),
            "status": "ok",
            "service": "voxify",
        }

    _mount_routers_on_demand(app)
    return app


def _mount_routers_on_demand(app: FastAPI) -> None:
    """The API's routers (and the browser app at /studio) are mounted as requests reach them
    (see voxify.http.routes); the OpenAPI document (/openapi.json, /docs) mounts them all."""
    routers = OnDemandRouters(app)
    app.add_middleware(MountRouters, routers=routers)
    make_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        routers.mount_all()
        return make_openapi()

    app.openapi = openapi  # type: ignore[method-assign]


async def request_context(request: Request, call_next: Any) -> Any:
    """Request id (API Gateway's, the caller's or a new one) on every log line and response;
    the caller's rate-limit state on every authenticated response."""
    request_id = _request_id(request)
    logger.append_keys(request_id=request_id)
    try:
        response = await call_next(request)
    finally:
        logger.remove_keys(["request_id", "user_id", "job_id"])
    response.headers["X-Request-Id"] = request_id
    rate = getattr(request.state, "rate_limit", None)
    if rate:
        response.headers["X-RateLimit-Limit"] = str(rate.limit)
        response.headers["X-RateLimit-Remaining"] = str(rate.remaining)
    return response


async def voxify_error(_: Request, error: VoxifyError) -> JSONResponse:
    return JSONResponse(
        error_envelope(error.code, error.message, error.details), status_code=error.status_code, headers=error.headers
    )


async def validation_error(_: Request, error: RequestValidationError) -> JSONResponse:
    details = [
        {"field": ".".join(str(p) for p in e["loc"] if p != "body"), "message": e["msg"], "type": e["type"]}
        for e in error.errors()
    ]
    return JSONResponse(
        error_envelope(ErrorCode.VALIDATION_ERROR, "the request is not valid", details), status_code=400
    )


async def http_error(_: Request, error: StarletteHTTPException) -> JSONResponse:
    code = _STATUS_CODES.get(error.status_code, ErrorCode.VALIDATION_ERROR)
    return JSONResponse(
        error_envelope(code, str(error.detail)), status_code=error.status_code, headers=getattr(error, "headers", None)
    )


async def unexpected_error(_: Request, error: Exception) -> JSONResponse:
    logger.exception("unhandled error")
    return JSONResponse(error_envelope(ErrorCode.INTERNAL_ERROR, "internal error"), status_code=500)


def _request_id(request: Request) -> str:
    event = request.scope.get("aws.event") or {}
    return event.get("requestContext", {}).get("requestId") or request.headers.get("X-Request-Id") or str(uuid.uuid4())
