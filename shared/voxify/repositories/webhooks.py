"""Webhooks (pk `WEBHOOK#{id}`, listed per owner) and their delivery log (pk `WEBHOOK#{id}`,
sk `DELIVERY#{created_at}#{id}`, newest last; records expire after 30 days)."""

from __future__ import annotations

from boto3.dynamodb.conditions import Key

from voxify.clock import epoch, now_iso
from voxify.domain.webhooks import DeliveryRecord, WebhookRecord, WebhookStatus
from voxify.repositories.base import OwnedRecords, TableRepository, stored

DELIVERY_TTL_SECONDS = 30 * 86400


class WebhookRepository(OwnedRecords[WebhookRecord]):
    kind = "WEBHOOK"
    id_field = "webhook_id"
    record_type = WebhookRecord

    def record_attempt(self, webhook_id: str, succeeded: bool, disable_after: int) -> WebhookRecord | None:
        """Count a failed attempt (or reset the count on success); disables the webhook once
        `disable_after` attempts in a row have failed. Returns the webhook as it is now."""
        if succeeded:
            return self.update(webhook_id, {"consecutive_failures": 0})
        webhook = self._record(
            self._update(
                *self._key(webhook_id),
                UpdateExpression="ADD consecutive_failures :one SET updated_at = :now",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":one": 1, ":now": now_iso()},
            )
        )
        if webhook and webhook.status == WebhookStatus.ACTIVE and webhook.consecutive_failures >= disable_after:
            reason = f"{disable_after} delivery attempts failed in a row"
            webhook = (
                self.update(
                    webhook_id,
                    {"status": WebhookStatus.DISABLED.value, "disabled_reason": reason},
                    expected_status=[WebhookStatus.ACTIVE],
                )
                or webhook
            )
        return webhook


class DeliveryRepository(TableRepository):
    """Deliveries are keyed under their webhook, so a webhook's log is one query."""

    def save(self, delivery: DeliveryRecord) -> None:
        self._put(
            {
                "pk": f"WEBHOOK#{delivery.webhook_id}",
                "sk": f"DELIVERY#{delivery.created_at}#{delivery.delivery_id}",
                "expires_at": epoch() + DELIVERY_TTL_SECONDS,
                **stored(delivery),
                "updated_at": now_iso(),
            }
        )

    def find(self, webhook_id: str, created_at: str, delivery_id: str) -> DeliveryRecord | None:
        item = self._get(f"WEBHOOK#{webhook_id}", f"DELIVERY#{created_at}#{delivery_id}")
        return DeliveryRecord.model_validate(item) if item else None

    def list_for_webhook(self, webhook_id: str) -> list[DeliveryRecord]:
        """Newest first."""
        items = self._query(
            KeyConditionExpression=Key("pk").eq(f"WEBHOOK#{webhook_id}") & Key("sk").begins_with("DELIVERY#"),
            ScanIndexForward=False,
        )
        return [DeliveryRecord.model_validate(item) for item in items]
