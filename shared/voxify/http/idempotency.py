"""`Idempotency-Key` for creates: a retried create answers the first result, never a second."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from voxify.errors import ErrorCode, VoxifyError
from voxify.repositories.idempotency import IdempotencyRepository, IdempotencyStatus

MAX_KEY_LENGTH = 255


Created = tuple[int, dict[str, Any]]  # status code, envelope


def run_idempotent(request: Request, user_id: str, body: Any, create: Callable[[], Created]) -> JSONResponse:
    """Run `create` once per user, route and key; answer its (possibly replayed) result."""
    status, envelope, replayed = idempotent(request, user_id, body, create)
    headers = {"Idempotent-Replayed": "true"} if replayed else None
    return JSONResponse(envelope, status_code=status, headers=headers)


SecretCreated = tuple[int, dict[str, Any], dict[str, Any]]  # status, envelope shown, envelope kept


def run_idempotent_secret(
    request: Request, user_id: str, body: Any, create: Callable[[], SecretCreated], what: str, names: tuple[str, ...]
) -> JSONResponse:
    """`run_idempotent` for creates whose answer holds a secret shown once (API keys, webhook
    secrets): the idempotency record keeps the answer without the secret, and a replay
    answers 409 SECRET_ALREADY_SHOWN with the `names` fields of what the first one created."""
    shown: dict[str, Any] = {}

    def create_once() -> Created:
        status, envelope, kept = create()
        shown["envelope"] = envelope
        return status, kept

    status, kept, replayed = idempotent(request, user_id, body, create_once)
    if replayed:
        first = kept.get("data") or {}
        raise VoxifyError(
            ErrorCode.SECRET_ALREADY_SHOWN,
            f"this Idempotency-Key already created the {what}, whose secret was shown once to the first "
            f"request; delete it and create another if that answer was lost",
            {name: first.get(name) for name in names},
        )
    return JSONResponse(shown["envelope"], status_code=status)


def idempotent(
    request: Request, user_id: str, body: Any, create: Callable[[], Created]
) -> tuple[int, dict[str, Any], bool]:
    """(status, envelope, replayed) of the first create with this request's key."""
    key = request.headers.get("Idempotency-Key")
    if not key:
        return (*create(), False)
    if len(key) > MAX_KEY_LENGTH:
        raise VoxifyError(ErrorCode.VALIDATION_ERROR, f"Idempotency-Key is longer than {MAX_KEY_LENGTH}")
    record_id = f"{user_id}#{request.method} {request.url.path}#{key}"
    body_hash = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
    records = IdempotencyRepository()
    existing = records.begin(record_id, body_hash)
    if existing is not None:
        if existing.body_hash != body_hash:
            raise VoxifyError(
                ErrorCode.IDEMPOTENCY_KEY_REUSED, "this Idempotency-Key was used with a different request"
            )
        if existing.status != IdempotencyStatus.COMPLETED or existing.response is None:
            raise VoxifyError(
                ErrorCode.IDEMPOTENCY_IN_PROGRESS,
                "the first request with this Idempotency-Key is still running",
                headers={"Retry-After": "1"},
            )
        return int(existing.status_code or 200), existing.response, True
    try:
        status, envelope = create()
    except Exception:
        records.abandon(record_id)
        raise
    records.complete(record_id, status, envelope)
    return status, envelope, False
