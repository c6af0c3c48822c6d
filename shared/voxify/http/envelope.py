"""The unified response envelope every route answers with."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field

from voxify.clock import now_iso

T = TypeVar("T")
Answer = dict[str, Any]  # an envelope as the plain dict FastAPI validates against the route's model


@dataclass(frozen=True)
class PageRequest:
    """`limit` and `offset` of a list request."""

    limit: int
    offset: int


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
    timestamp: str = Field(default_factory=now_iso)


def ok(data: Any = None, message: str | None = None, meta: dict[str, Any] | None = None) -> Answer:
    """A success envelope as a plain, JSON-ready dict (replayable as it is)."""
    return Envelope[Any](data=data, message=message, meta=meta).model_dump(mode="json")


def error_envelope(code: str, message: str, details: Any = None) -> Answer:
    return Envelope[Any](success=False, error=ErrorBody(code=code, message=message, details=details)).model_dump(
        mode="json"
    )


def paged(items: Sequence[Any], page: PageRequest, **meta: Any) -> Answer:
    """One page of a list, in the envelope, with `meta.pagination` (and any other meta)."""
    return ok(list(items[page.offset : page.offset + page.limit]), meta={**page_meta(len(items), page), **meta})


def page_meta(total: int, page: PageRequest) -> dict[str, Any]:
    """`meta.pagination` of every list."""
    return {
        "pagination": {
            "total_count": total,
            "limit": page.limit,
            "offset": page.offset,
            "has_more": page.offset + page.limit < total,
        }
    }
