"""The unified response envelope every route answers with."""

from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field

T = TypeVar("T")


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class ErrorBody(BaseModel):
    code: str = Field(examples=["VALIDATION_ERROR"])
    message: str
    details: Any | None = None


class Envelope(BaseModel, Generic[T]):
    success: bool = True
    data: T | None = None
    message: str | None = None
    error: ErrorBody | None = None
    meta: dict[str, Any] | None = None
    timestamp: str = Field(default_factory=utc_now_iso)


def ok(data: Any = None, message: str | None = None, meta: dict[str, Any] | None = None) -> dict:
    """A success envelope as a plain dict (FastAPI validates it against the route's model)."""
    return Envelope[Any](data=data, message=message, meta=meta).model_dump()


def error_envelope(code: str, message: str, details: Any = None) -> dict:
    return Envelope[Any](success=False, error=ErrorBody(code=code, message=message,
                                                         details=details)).model_dump()


def paged(items: list[Any], limit: int, offset: int) -> dict[str, Any]:
    """One page of a list, in the envelope, with its pagination meta."""
    return ok(items[offset:offset + limit], meta=page_meta(len(items), limit, offset))


def page_meta(total: int, limit: int, offset: int) -> dict[str, Any]:
    """`meta.pagination` of every list."""
    return {"pagination": {"total_count": total, "limit": limit, "offset": offset,
                           "has_more": offset + limit < total}}
