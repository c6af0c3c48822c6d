"""Per-user request rate and daily quotas, as atomic counters in the rate-limit table.

Each counter is also offered as a `WriteStep`, so that a create can take its quota unit and
count its request in the same transaction as the record it writes.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from voxify.aws import resource
from voxify.clock import epoch
from voxify.repositories.base import WriteStep, is_condition_failure
from voxify.settings import get_settings

RATE_WINDOW_SECONDS = 60


def window_start(now: int, window_seconds: int = RATE_WINDOW_SECONDS) -> int:
    """The epoch second the fixed window holding `now` began."""
    return now - now % window_seconds


class UsageRepository:
    def __init__(self, table_name: str | None = None) -> None:
        self.table = resource("dynamodb").Table(table_name or get_settings().require("rate_limit_table_name"))

    def count_request(self, user_id: str, window_seconds: int = RATE_WINDOW_SECONDS) -> tuple[int, int]:
        """Count a request in the current fixed window; (count so far, seconds until reset)."""
        now = epoch()
        window = window_start(now, window_seconds)
        response = self.table.update_item(**self._rate(user_id, window, window_seconds), ReturnValues="UPDATED_NEW")
        return int(response["Attributes"]["requests"]), window + window_seconds - now

    def rate_step(self, user_id: str, limit: int) -> WriteStep:
        """Count a request in the current window, refused (step "rate") past `limit`."""
        window = window_start(epoch())
        update = self._rate(user_id, window, RATE_WINDOW_SECONDS)
        update["ConditionExpression"] = "attribute_not_exists(requests) OR requests < :limit"
        update["ExpressionAttributeValues"][":limit"] = limit
        return WriteStep("rate", {"Update": {"TableName": self.table.name, **update}})

    @staticmethod
    def _rate(user_id: str, window: int, window_seconds: int) -> dict[str, Any]:
        return {
            "Key": {"pk": f"RATE#{user_id}#{window}"},
            "UpdateExpression": "ADD requests :one SET expires_at = :expires",
            "ExpressionAttributeValues": {":one": 1, ":expires": window + 2 * window_seconds},
        }

    def take_quota(self, user_id: str, kind: str, day: str, limit: int) -> bool:
        """Use one unit of today's quota; False when it is spent."""
        try:
            self.table.update_item(**self._quota(user_id, kind, day, limit))
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise
        return True

    def quota_step(self, user_id: str, kind: str, day: str, limit: int, units: int = 1) -> WriteStep:
        """`take_quota` (of `units` at once) as a transaction step, refused (step "quota")
        when fewer than `units` are left."""
        update = self._quota(user_id, kind, day, limit, units)
        return WriteStep("quota", {"Update": {"TableName": self.table.name, **update}})

    @staticmethod
    def _quota(user_id: str, kind: str, day: str, limit: int, units: int = 1) -> dict[str, Any]:
        # used + units <= limit, written as used <= limit - units (no arithmetic in conditions)
        return {
            "Key": {"pk": f"QUOTA#{user_id}#{kind}#{day}"},
            "UpdateExpression": "ADD used :units SET expires_at = :expires",
            "ConditionExpression": "attribute_not_exists(used) OR used <= :room",
            "ExpressionAttributeValues": {":units": units, ":room": limit - units, ":expires": epoch() + 2 * 86400},
        }

    def give_back_quota(self, user_id: str, kind: str, day: str, units: int = 1) -> None:
        """Undo `take_quota` when the create(s) it paid for did not happen."""
        self.table.update_item(
            Key={"pk": f"QUOTA#{user_id}#{kind}#{day}"},
            UpdateExpression="ADD used :minus",
            ExpressionAttributeValues={":minus": -units},
        )

    def quota_used(self, user_id: str, kind: str, day: str) -> int:
        item = self.table.get_item(Key={"pk": f"QUOTA#{user_id}#{kind}#{day}"}).get("Item")
        return int(item["used"]) if item else 0
