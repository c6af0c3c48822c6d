"""Drop-folder batches (pk `BATCH#{id}`), listed per owner through gsi1.

A batch's outcome counters move in the same transaction that marks the job as counted,
so a job's terminal event delivered twice (or its job finishing after a redelivery) is
counted once.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from voxify.clock import now_iso
from voxify.repositories.base import OwnedRecords, is_condition_failure

OUTCOMES = ("completed", "failed", "cancelled")


class BatchRepository(OwnedRecords):
    kind = "BATCH"
    id_field = "batch_id"

    def create_once(self, batch: dict[str, Any]) -> bool:
        """False when this batch exists already (the same manifest delivered again)."""
        return self._put({
            "pk": f"BATCH#{batch['batch_id']}", "sk": "BATCH",
            "gsi1pk": f"USER#{batch['user_id']}#BATCHS", "gsi1sk": batch["created_at"], **batch,
        }, condition="attribute_not_exists(pk)")

    def count_outcome(self, batch_id: str, job_id: str, outcome: str) -> bool:
        """Add one job's outcome to its batch, once; False when it was counted before."""
        if outcome not in OUTCOMES:
            raise ValueError(f"not a terminal outcome: {outcome}")
        try:
            self.table.meta.client.transact_write_items(TransactItems=[
                {"Update": {"TableName": self.table.name, "Key": {"pk": f"JOB#{job_id}", "sk": "JOB"},
                            "UpdateExpression": "SET batch_counted = :outcome",
                            "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(batch_counted)",
                            "ExpressionAttributeValues": {":outcome": outcome}}},
                {"Update": {"TableName": self.table.name, "Key": {"pk": f"BATCH#{batch_id}", "sk": "BATCH"},
                            "UpdateExpression": "ADD #outcome :one SET updated_at = :now",
                            "ConditionExpression": "attribute_exists(pk)",
                            "ExpressionAttributeNames": {"#outcome": outcome},
                            "ExpressionAttributeValues": {":one": 1, ":now": now_iso()}}},
            ])
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise
        return True
