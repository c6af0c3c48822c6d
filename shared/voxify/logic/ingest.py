"""Inbound "Synthesis Requested" events: a job for whoever the event names, or a reason why not.

Who: an API key (`vx_...`, checked like the HTTP API checks it) or a `user_id`. A user id
alone is trusted because only principals allowed to PutEvents on this account's bus can
send it; integrations outside the account should send an API key. The job id is derived
from the event id, so the queue's at-least-once delivery never makes two jobs of one event.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, ValidationError

from voxify.clock import derived_id
from voxify.domain.jobs import MAX_TEXT_CHARS, JobCreate, JobOptions, JobRecord
from voxify.errors import ErrorCode, VoxifyError
from voxify.events import EventPublisher
from voxify.logic.auth import authenticate
from voxify.logic.jobs import find_job, submit_job
from voxify.observability import logger
from voxify.repositories.users import UserRepository
from voxify.settings import get_settings


class SynthesisRequested(BaseModel):
    """The `detail` of a "Synthesis Requested" event (schema: event_schemas/)."""

    api_key: str | None = Field(default=None, description="an API key; or name user_id")
    user_id: str | None = None
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    voice_id: str | None = Field(default=None, description="a clone id; defaults to the active voice")
    options: JobOptions = JobOptions()
    correlation_id: str | None = Field(default=None, max_length=200)


def request_job_id(event_id: str) -> str:
    return derived_id("job", f"event:{event_id}")


def accept_synthesis_request(event: dict[str, Any]) -> JobRecord:
    """The job for this event (made now, or by an earlier delivery). Raises VoxifyError."""
    try:
        request = SynthesisRequested.model_validate(event.get("detail") or {})
    except ValidationError as error:
        raise VoxifyError(
            ErrorCode.VALIDATION_ERROR,
            "the request does not match the schema",
            [{"field": ".".join(map(str, e["loc"])), "message": e["msg"]} for e in error.errors()],
        ) from error
    user_id = _requester(request, str(event.get("source", "")))
    job_id = request_job_id(str(event.get("id")))
    existing = find_job(job_id)
    if existing is not None:
        return existing
    body = JobCreate.model_validate(
        {
            **request.options.model_dump(exclude={"voice_model_id"}),
            "text_content": request.text,
            "voice_model_id": request.voice_id,
        }
    )
    return submit_job(user_id, body, source="event", job_id=job_id, correlation_id=request.correlation_id)


def _requester(request: SynthesisRequested, source: str) -> str:
    """Who asks: an API key's owner; or a bare user_id, only from a source the operator
    trusts (VOXIFY_TRUSTED_EVENT_SOURCES) since any principal allowed to put events on the
    bus could name any user."""
    if request.api_key:
        return authenticate(request.api_key).user_id
    if request.user_id and source not in get_settings().trusted_event_sources:
        raise VoxifyError(
            ErrorCode.UNAUTHORIZED, f"events from {source!r} must name the requester with an api_key, not a user_id"
        )
    if request.user_id:
        user = UserRepository().get(request.user_id)
        if user is None or user.disabled:
            raise VoxifyError(ErrorCode.UNAUTHORIZED, "user_id names no active user")
        return request.user_id
    raise VoxifyError(ErrorCode.UNAUTHORIZED, "name the requester: api_key or user_id")


def answer_synthesis_request(event: dict[str, Any]) -> None:
    """Make the event's job and tell the sender on the bus: "Synthesis Request Accepted" with
    the job, or "Synthesis Request Rejected" with a stable reason code; either carries the
    request's correlation id."""
    try:
        job = accept_synthesis_request(event)
    except VoxifyError as error:
        logger.info("synthesis request rejected", extra={"code": error.code.value})
        reject_synthesis_request(event, error)
        return
    EventPublisher().publish(
        "Synthesis Request Accepted", {**_reply(event), "job_id": job.job_id, "user_id": job.user_id}
    )


def reject_synthesis_request(event: dict[str, Any], error: VoxifyError) -> None:
    reason = {"code": error.code.value, "message": error.message, "details": error.details}
    EventPublisher().publish("Synthesis Request Rejected", {**_reply(event), "reason": reason})


def _reply(event: dict[str, Any]) -> dict[str, Any]:
    detail = event.get("detail") if isinstance(event.get("detail"), dict) else {}
    return {"request_event_id": event.get("id"), "correlation_id": (detail or {}).get("correlation_id")}
