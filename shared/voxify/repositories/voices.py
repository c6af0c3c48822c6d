"""Voice samples and voice clones, each listed per owner through gsi1."""

from __future__ import annotations

from voxify.clock import now_iso
from voxify.domain.voices import CloneRecord, CloneStatus, SampleRecord
from voxify.repositories.base import Fields, OwnedRecords, WriteStep


class SampleRepository(OwnedRecords[SampleRecord]):
    kind = "SAMPLE"
    id_field = "sample_id"
    record_type = SampleRecord


class CloneRepository(OwnedRecords[CloneRecord]):
    """Clones; also listed per state through gsi2 so admins find those held for review."""

    kind = "CLONE"
    id_field = "clone_id"
    record_type = CloneRecord

    def create(self, record: CloneRecord) -> bool:
        return self._put(
            self._item(record, **_state_keys(record.status, record.created_at)), condition="attribute_not_exists(pk)"
        )

    def set_status(
        self,
        clone_id: str,
        status: CloneStatus,
        changes: Fields | None = None,
        expected_status: list[CloneStatus] | None = None,
    ) -> CloneRecord | None:
        """Move to `status` (from one of `expected_status`, if given); None when not moved."""
        return self.update(
            clone_id,
            {**(changes or {}), "status": status.value, **_state_keys(status, now_iso())},
            expected_status=expected_status,
        )

    def ready_step(self, clone_id: str, user_id: str) -> WriteStep:
        """A transaction step that writes nothing and holds only while the clone is still
        `user_id`'s and ready (step "voice:{clone_id}" otherwise)."""
        pk, sk = self._key(clone_id)
        return WriteStep(
            f"voice:{clone_id}",
            {
                "ConditionCheck": {
                    "TableName": self.table.name,
                    "Key": {"pk": pk, "sk": sk},
                    "ConditionExpression": "user_id = :owner AND #status = :ready",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": {":owner": user_id, ":ready": CloneStatus.READY.value},
                }
            },
        )

    def list_in_state(self, status: CloneStatus) -> list[CloneRecord]:
        return [
            CloneRecord.model_validate(item)
            for item in self._query_index("gsi2", f"CLONESTATE#{status.value}", newest_first=False)
        ]


def _state_keys(status: CloneStatus, at: str) -> dict[str, str]:
    return {"gsi2pk": f"CLONESTATE#{status.value}", "gsi2sk": at}
