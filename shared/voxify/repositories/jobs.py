"""Job records in the data table (pk `JOB#{id}`, sk `JOB`).

Every state transition is a conditional write, so a duplicate or late queue delivery can
never move a job backwards.
"""

from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from voxify.aws import resource
from voxify.domain.jobs import TERMINAL, JobStatus
from voxify.settings import get_settings


def job_key(job_id: str) -> dict[str, str]:
    return {"pk": f"JOB#{job_id}", "sk": "JOB"}


class JobRepository:
    def __init__(self, table_name: str | None = None) -> None:
        self._table = resource("dynamodb").Table(table_name or get_settings().table_name)

    def get(self, job_id: str) -> dict[str, Any] | None:
        return self._table.get_item(Key=job_key(job_id), ConsistentRead=True).get("Item")

    def mark_failed(self, job_id: str, code: str, message: str) -> bool:
        """Fail a job that is not finished yet; False when it was already terminal or absent."""
        now = datetime.now(UTC).isoformat()
        try:
            self._table.update_item(
                Key=job_key(job_id),
                UpdateExpression="SET #s = :failed, error_code = :code, error_message = :msg, "
                "updated_at = :now, finished_at = :now",
                ConditionExpression="attribute_exists(pk) AND NOT #s IN (:t1, :t2, :t3)",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":failed": JobStatus.FAILED.value, ":code": code, ":msg": message,
                    ":now": now, **{f":t{i}": s for i, s in enumerate(sorted(TERMINAL), 1)},
                },
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True
