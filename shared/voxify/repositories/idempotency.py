"""`Idempotency-Key` records: the first result of a create, replayed for its retries.

A key is scoped to the user and the route; the request body's hash is stored so the same
key with a different body is refused rather than silently answered with another result.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel

from voxify.clock import epoch
from voxify.repositories.base import TableRepository, from_dynamo, to_dynamo
from voxify.settings import get_settings

IDEMPOTENCY_TTL_SECONDS = 24 * 3600
IN_PROGRESS_TIMEOUT_SECONDS = 60


class IdempotencyStatus(StrEnum):
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"


class IdempotencyRecord(BaseModel):
    """The first request's claim on a key and, once it completed, its answer."""

    id: str
    status: IdempotencyStatus
    body_hash: str
    status_code: int | None = None
    response: dict[str, Any] | None = None


class IdempotencyRepository(TableRepository):
    def __init__(self) -> None:
        super().__init__(get_settings().require("idempotency_table_name"))

    def begin(self, record_id: str, body_hash: str) -> IdempotencyRecord | None:
        """Claim the key; returns the existing record when someone already holds it."""
        now = epoch()
        claimed = self._put(
            {
                "id": record_id,
                "status": IdempotencyStatus.IN_PROGRESS.value,
                "body_hash": body_hash,
                "in_progress_expiry": now + IN_PROGRESS_TIMEOUT_SECONDS,
                "expiration": now + IDEMPOTENCY_TTL_SECONDS,
            },
            condition="attribute_not_exists(id) OR (#s = :progress AND in_progress_expiry < :now)",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues=to_dynamo({":progress": IdempotencyStatus.IN_PROGRESS.value, ":now": now}),
        )
        if claimed:
            return None
        item = self.table.get_item(Key={"id": record_id}, ConsistentRead=True).get("Item")
        return IdempotencyRecord.model_validate(from_dynamo(item)) if item else None

    def complete(self, record_id: str, status_code: int, body: dict[str, Any]) -> None:
        self.table.update_item(
            Key={"id": record_id},
            UpdateExpression="SET #s = :done, status_code = :code, #r = :body",
            ExpressionAttributeNames={"#s": "status", "#r": "response"},
            ExpressionAttributeValues=to_dynamo(
                {":done": IdempotencyStatus.COMPLETED.value, ":code": status_code, ":body": body}
            ),
        )

    def abandon(self, record_id: str) -> None:
        """Forget a claim whose create failed, so a retry can run it again."""
        self.table.delete_item(Key={"id": record_id})
