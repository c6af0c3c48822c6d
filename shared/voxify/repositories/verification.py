"""Voice verifications (pk `VERIFICATION#{clone_id}`): one challenge per clone at a time,
answered once by the worker. Records expire a day after their challenge; a passed
verification's evidence stays on the clone."""

from __future__ import annotations

from voxify.clock import now_iso
from voxify.domain.verification import VerificationRecord, VerificationStatus
from voxify.repositories.base import AnsweredOnce


class VerificationRepository(AnsweredOnce[VerificationRecord]):
    kind = "VERIFICATION"
    id_field = "clone_id"
    record_type = VerificationRecord

    def challenge(self, record: VerificationRecord) -> bool:
        """Issue a new challenge in place of the clone's last one; False while a recording is
        being checked (a new phrase must not pull the ground from under the worker)."""
        return self._put(
            self._item(record),
            condition="attribute_not_exists(pk) OR #status <> :pending",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":pending": VerificationStatus.PENDING.value},
        )

    def submit(self, clone_id: str, recording_key: str) -> VerificationRecord | None:
        """Challenged → pending with its recording, only while the challenge is open and
        unexpired; None otherwise (answered, replaced or expired in the meantime)."""
        return self._record(
            self._set_fields(
                *self._key(clone_id),
                {"status": VerificationStatus.PENDING.value, "recording_key": recording_key},
                "#status = :challenged AND challenge_expires_at > :now",
                values={":challenged": VerificationStatus.CHALLENGED.value, ":now": now_iso()},
                names={"#status": "status"},
            )
        )

    def reopen(self, clone_id: str) -> None:
        """Pending → challenged again, when the recording's check could not be queued."""
        self.update(
            clone_id,
            {"status": VerificationStatus.CHALLENGED.value, "recording_key": None},
            [VerificationStatus.PENDING],
        )
