"""Per-user request rate and daily quotas, as atomic counters in the rate-limit table."""

from __future__ import annotations

from botocore.exceptions import ClientError

from voxify.aws import resource
from voxify.clock import epoch
from voxify.repositories.base import is_condition_failure
from voxify.settings import get_settings


class UsageRepository:
    def __init__(self, table_name: str | None = None) -> None:
        self.table = resource("dynamodb").Table(table_name or get_settings().require("rate_limit_table_name"))

    def count_request(self, user_id: str, window_seconds: int = 60) -> tuple[int, int]:
        """Count a request in the current fixed window; (count so far, seconds until reset)."""
        now = epoch()
        window = now - now % window_seconds
        response = self.table.update_item(
            Key={"pk": f"RATE#{user_id}#{window}"},
            UpdateExpression="ADD requests :one SET expires_at = :expires",
            ExpressionAttributeValues={":one": 1, ":expires": window + 2 * window_seconds},
            ReturnValues="UPDATED_NEW",
        )
        return int(response["Attributes"]["requests"]), window + window_seconds - now

    def take_quota(self, user_id: str, kind: str, day: str, limit: int) -> bool:
        """Use one unit of today's quota; False when it is spent."""
        try:
            self.table.update_item(
                Key={"pk": f"QUOTA#{user_id}#{kind}#{day}"},
                UpdateExpression="ADD used :one SET expires_at = :expires",
                ConditionExpression="attribute_not_exists(used) OR used < :limit",
                ExpressionAttributeValues={":one": 1, ":limit": limit, ":expires": epoch() + 2 * 86400},
            )
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise
        return True

    def give_back_quota(self, user_id: str, kind: str, day: str) -> None:
        """Undo `take_quota` when the create it paid for did not happen."""
        self.table.update_item(
            Key={"pk": f"QUOTA#{user_id}#{kind}#{day}"},
            UpdateExpression="ADD used :minus",
            ExpressionAttributeValues={":minus": -1},
        )

    def quota_used(self, user_id: str, kind: str, day: str) -> int:
        item = self.table.get_item(Key={"pk": f"QUOTA#{user_id}#{kind}#{day}"}).get("Item")
        return int(item["used"]) if item else 0
