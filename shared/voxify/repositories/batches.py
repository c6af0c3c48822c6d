"""Drop-folder batches (pk `BATCH#{id}`), listed per owner through gsi1.

A batch's outcome counters move in the same transaction that marks the job as counted,
so a job's terminal event delivered twice (or its job finishing after a redelivery) is
counted once.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from voxify.clock import now_iso
from voxify.domain.batches import OUTCOMES, BatchRecord, BatchStatus
from voxify.domain.jobs import JobStatus
from voxify.repositories.base import Fields, OwnedRecords, is_condition_failure


class BatchRepository(OwnedRecords[BatchRecord]):
    """Batches; also listed per state through gsi2, so unfinished ones can be reconciled."""

    kind = "BATCH"
    id_field = "batch_id"
    record_type = BatchRecord

    def create(self, record: BatchRecord) -> bool:
        """False when this batch exists already (the same manifest delivered again)."""
        item = self._item(record, **_state_keys(record.status, record.created_at))
        return self._put(item, condition="attribute_not_exists(pk)")

    def move(
        self,
        batch_id: str,
        status: BatchStatus,
        changes: Fields | None = None,
        expected_status: list[BatchStatus] | None = None,
    ) -> BatchRecord | None:
        """Set `status` (from one of `expected_status`, if given) with `changes`; None when not moved."""
        fields = {**(changes or {}), "status": status.value, **_state_keys(status, now_iso())}
        return self.update(batch_id, fields, expected_status=expected_status)

    def list_in_state(self, status: BatchStatus) -> list[BatchRecord]:
        """Oldest change first."""
        items = self._query_index("gsi2", f"BATCHSTATE#{status.value}", newest_first=False)
        return [BatchRecord.model_validate(item) for item in items]

    def count_outcome(self, batch_id: str, job_id: str, outcome: JobStatus) -> bool:
        """Add one job's outcome to its batch, once; False when it was counted before."""
        if outcome not in OUTCOMES:
            raise ValueError(f"not a terminal outcome: {outcome}")
        try:
            self.table.meta.client.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": self.table.name,
                            "Key": {"pk": f"JOB#{job_id}", "sk": "JOB"},
                            "UpdateExpression": "SET batch_counted = :outcome",
                            "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(batch_counted)",
                            "ExpressionAttributeValues": {":outcome": outcome.value},
                        }
                    },
                    {
                        "Update": {
                            "TableName": self.table.name,
                            "Key": {"pk": f"BATCH#{batch_id}", "sk": "BATCH"},
                            "UpdateExpression": "ADD #outcome :one SET updated_at = :now",
                            "ConditionExpression": "attribute_exists(pk)",
                            "ExpressionAttributeNames": {"#outcome": outcome.value},
                            "ExpressionAttributeValues": {":one": 1, ":now": now_iso()},
                        }
                    },
                ]
            )
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise
        return True


def _state_keys(status: BatchStatus, at: str) -> dict[str, str]:
    return {"gsi2pk": f"BATCHSTATE#{status.value}", "gsi2sk": at}
