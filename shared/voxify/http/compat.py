"""Faces: routers that serve another specification document's API over the same logic.

`/api/v1` is the canonical API. Each other document's API is a thin router under
`voxify.http.routes.compat` that translates that document's requests and answers onto the
same logic functions. A face answers errors as its document does: its route class catches
what logic, dependencies and validation raise and renders it in the face's shape, with the
status codes its document uses. Safety rules do not bend to a document (docs/compatibility.md).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from voxify.errors import ErrorCode, VoxifyError
from voxify.http.routes.voices import CappedBodyRoute, consent_origin
from voxify.observability import logger

# A face whose document has no consent field takes it from this header (or a `consent` field).
CONSENT_HEADER = "X-Voice-Consent"
ErrorShape = Callable[[str, str], dict[str, Any]]  # (code, message) -> body


class DetailError(BaseModel):
    """FastAPI's own error body."""

    detail: str


def detail_shape(_: str, message: str) -> dict[str, Any]:
    return DetailError(detail=message).model_dump()


@dataclass(frozen=True)
class Face:
    """How one document's API answers errors: its body shape, the statuses it uses instead of
    ours, and its own wording for some codes (how to give consent, above all)."""

    tag: str
    shape: ErrorShape
    messages: Mapping[str, str]
    statuses: Mapping[int, int] = field(default_factory=dict)
    error_model: type[BaseModel] = DetailError

    def router(self, **options: Any) -> APIRouter:
        """A router of this face: under its tag, its errors in its shape (in /docs too)."""
        described = {"model": self.error_model, "description": f"errors, as the {self.tag} answers them"}
        return APIRouter(
            tags=[self.tag], route_class=face_route(self), responses={"4XX": described, "5XX": described}, **options
        )

    def error(self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
        message = self.messages.get(code, message)
        return JSONResponse(
            self.shape(code, message), status_code=self.statuses.get(status, status), headers=dict(headers or {})
        )


def validation_message(error: RequestValidationError | ValidationError) -> str:
    """One line naming each field that failed and why."""
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc'] if p != 'body') or 'body'}: {e['msg']}" for e in error.errors()
    )


def face_route(face: Face) -> type[APIRoute]:
    """A route class answering every error of its routes in `face`'s shape (bodies capped as
    /api/v1's upload routes cap them)."""

    class FaceRoute(CappedBodyRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def answered(request: Request) -> Response:
                try:
                    return await handler(request)
                except VoxifyError as error:
                    return face.error(error.status_code, error.code, error.message, error.headers)
                except (RequestValidationError, ValidationError) as error:
                    return face.error(400, ErrorCode.VALIDATION_ERROR, validation_message(error))
                except StarletteHTTPException as error:
                    return face.error(error.status_code, ErrorCode.VALIDATION_ERROR, str(error.detail), error.headers)
                except Exception:
                    logger.exception("unhandled error")
                    return face.error(500, ErrorCode.INTERNAL_ERROR, "internal error")

            return answered

    return FaceRoute


def consent_message(how: str) -> str:
    return f"cloning a voice needs the speaker's consent: send {how} (or the header {CONSENT_HEADER}: true)"


def consent_given(field_value: bool | None, header_value: bool | None) -> bool:
    """Consent given as the face's `consent` field or as the X-Voice-Consent header."""
    return bool(field_value) or bool(header_value)


def origin_of(request: Request, face: Face) -> dict[str, str | None]:
    """Where a consent attestation came from, and through which face, stored with the clone."""
    return {**consent_origin(request), "api": face.tag}
