"""Webhooks (pk `WEBHOOK#{id}`, listed per owner) and their delivery log (pk `WEBHOOK#{id}`,
sk `DELIVERY#{created_at}#{id}`, newest last; records expire after 30 days)."""

from __future__ import annotations

import time
from typing import Any

from boto3.dynamodb.conditions import Key

from voxify.clock import now_iso
from voxify.repositories.base import OwnedRecords, TableRepository, from_dynamo, strip_keys

DELIVERY_TTL_SECONDS = 30 * 86400


class WebhookRepository(OwnedRecords):
    kind = "WEBHOOK"
    id_field = "webhook_id"

    def record_attempt(self, webhook_id: str, succeeded: bool, disable_after: int) -> dict[str, Any] | None:
        """Count a failed attempt (or reset the count on success); disables the webhook once
        `disable_after` attempts in a row have failed. Returns the webhook as it is now."""
        if succeeded:
            return self.update(webhook_id, {"consecutive_failures": 0})
        item = self._update(f"WEBHOOK#{webhook_id}", "WEBHOOK",
                            UpdateExpression="ADD consecutive_failures :one SET updated_at = :now",
                            ConditionExpression="attribute_exists(pk)",
                            ExpressionAttributeValues={":one": 1, ":now": now_iso()})
        if item and item["status"] == "active" and int(item["consecutive_failures"]) >= disable_after:
            item = self._set_fields(
                f"WEBHOOK#{webhook_id}", "WEBHOOK",
                {"status": "disabled", "disabled_reason": f"{disable_after} delivery attempts failed in a row",
                 "updated_at": now_iso()}, "#s = :active", {":active": "active"}, {"#s": "status"}) or item
        return strip_keys(item) if item else None


class DeliveryRepository(TableRepository):
    """Deliveries are keyed under their webhook, so a webhook's log is one query."""

    def save(self, delivery: dict[str, Any]) -> None:
        self._put({"pk": f"WEBHOOK#{delivery['webhook_id']}",
                   "sk": f"DELIVERY#{delivery['created_at']}#{delivery['delivery_id']}",
                   "expires_at": int(time.time()) + DELIVERY_TTL_SECONDS, **{**delivery, "updated_at": now_iso()}})

    def find(self, webhook_id: str, created_at: str, delivery_id: str) -> dict[str, Any] | None:
        item = self._get(f"WEBHOOK#{webhook_id}", f"DELIVERY#{created_at}#{delivery_id}")
        return strip_keys(item) if item else None

    def list_for_webhook(self, webhook_id: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        request: dict[str, Any] = {"KeyConditionExpression": Key("pk").eq(f"WEBHOOK#{webhook_id}")
                                   & Key("sk").begins_with("DELIVERY#"), "ScanIndexForward": False}
        while True:
            page = self.table.query(**request)
            items.extend(strip_keys(i) for i in from_dynamo(page["Items"]))
            if "LastEvaluatedKey" not in page:
                return items
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
