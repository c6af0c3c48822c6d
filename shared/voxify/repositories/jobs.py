"""Job records (pk `JOB#{id}`): listed per owner through gsi1, per state through gsi2.

Every state transition is a conditional write, so a duplicate or late queue delivery can
never move a job backwards or produce a second output. A worker *claims* a job for a lease
it keeps renewing; a claim whose lease ran out (its worker died) can be taken over.
Each write that a progress stream should see bumps `progress_version` (the SSE event id).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from voxify.clock import epoch, now_iso
from voxify.domain.jobs import JobRecord, JobStatus, StreamProgress
from voxify.repositories.base import Fields, Item, OwnedRecords, WriteStep, from_dynamo

_STATUS = {"#status": "status"}
_BUMP = {"progress_version": 1}
# A claim ends this much before the message's visibility does (both start at the receive and
# are renewed together), so a redelivered message always finds the claim expired, never live.
CLAIM_MARGIN_SECONDS = 2
NEW_JOB = "attribute_not_exists(pk)"


def _state_fields(status: JobStatus, at: str) -> dict[str, str]:
    return {"status": status.value, "updated_at": at, "gsi2pk": f"JOBSTATE#{status.value}", "gsi2sk": at}


def claim_expiry(lease_seconds: int) -> int:
    """Epoch second a claim taken or renewed now ends: before the message's visibility."""
    return epoch() + lease_seconds - CLAIM_MARGIN_SECONDS


def _in_states(states: list[JobStatus]) -> tuple[str, dict[str, str]]:
    values = {f":st{i}": s.value for i, s in enumerate(states)}
    return "#status IN (" + ", ".join(values) + ")", values


class JobRepository(OwnedRecords[JobRecord]):
    kind = "JOB"
    id_field = "job_id"
    record_type = JobRecord

    def create(self, record: JobRecord) -> bool:
        """False when the job exists already (a redelivered request that derives its id)."""
        return self._put(self._new_item(record), condition=NEW_JOB)

    def create_step(self, record: JobRecord) -> WriteStep:
        """`create` as a transaction step, refused (step "job") when the job exists."""
        return WriteStep(
            "job",
            {"Put": {"TableName": self.table.name, "Item": self._new_item(record), "ConditionExpression": NEW_JOB}},
        )

    def _new_item(self, record: JobRecord) -> Fields:
        return self._item(record, **_state_fields(record.status, record.created_at))

    def list_in_state(self, status: JobStatus) -> list[JobRecord]:
        """Oldest first: the stale-job sweep and admin views read this."""
        return [
            JobRecord.model_validate(item)
            for item in self._query_index("gsi2", f"JOBSTATE#{status.value}", newest_first=False)
        ]

    def _write(
        self, job_id: str, fields: Fields, condition: str, values: Fields, add: dict[str, int] | None = None
    ) -> JobRecord | None:
        return self._record(
            self._set_fields(
                *self._key(job_id),
                fields,
                "attribute_exists(pk) AND " + condition,
                values,
                _STATUS,
                _BUMP | (add or {}),
            )
        )

    def transition(
        self, job_id: str, to: JobStatus, from_states: list[JobStatus], changes: Fields | None = None
    ) -> JobRecord | None:
        """Move a job from one of `from_states` to `to`; None when it was in no such state."""
        now = now_iso()
        fields = {**(changes or {}), **_state_fields(to, now)}
        if to.is_terminal:
            fields.setdefault("finished_at", now)
        condition, values = _in_states(from_states)
        return self._write(job_id, fields, condition, values)

    def update_fields(self, job_id: str, changes: Fields, only_in: list[JobStatus]) -> JobRecord | None:
        """Change fields without a transition, only while in `only_in` (e.g. PUT while pending)."""
        condition, values = _in_states(only_in)
        return self._write(job_id, {**changes, "updated_at": now_iso()}, condition, values)

    def mark_failed(self, job_id: str, code: str, message: str) -> JobRecord | None:
        """Fail a job that is not finished yet; the failed job, or None when it was already
        terminal or absent."""
        open_states = [s for s in JobStatus if not s.is_terminal]
        return self.transition(
            job_id, JobStatus.FAILED, open_states, {"error_code": str(code), "error_message": message}
        )

    # ---------------------------------------------------------------- claims
    def claim(self, job_id: str, owner: str, lease_seconds: int) -> JobRecord | None:
        """Take a pending job, or a processing one whose lease ran out; None otherwise."""
        now = now_iso()
        fields = {
            **_state_fields(JobStatus.PROCESSING, now),
            "claim_owner": owner,
            "claim_expires": claim_expiry(lease_seconds),
            "started_at": now,
            "progress_message": "started",
        }
        condition = "(#status = :pending OR (#status = :processing AND claim_expires < :now))"
        return self._write(
            job_id,
            fields,
            condition,
            {":pending": JobStatus.PENDING.value, ":processing": JobStatus.PROCESSING.value, ":now": epoch()},
            add={"attempts": 1},
        )

    def _owned(self, job_id: str, owner: str, fields: Fields) -> JobRecord | None:
        return self._write(
            job_id,
            fields,
            "#status = :processing AND claim_owner = :owner",
            {":processing": JobStatus.PROCESSING.value, ":owner": owner},
        )

    def renew(self, job_id: str, owner: str, lease_seconds: int) -> bool:
        return self._owned(job_id, owner, {"claim_expires": claim_expiry(lease_seconds)}) is not None

    def report_progress(self, job_id: str, owner: str, percent: int, message: str) -> bool:
        """False when the job is no longer ours to work on (cancelled, or taken over)."""
        return (
            self._owned(job_id, owner, {"progress": percent, "progress_message": message, "updated_at": now_iso()})
            is not None
        )

    def report_stream(self, job_id: str, owner: str, progress: StreamProgress) -> bool:
        """Record how many stream chunks exist; False when the job is no longer ours."""
        return self._owned(job_id, owner, {"stream": progress.model_dump()}) is not None

    def finish(self, job_id: str, owner: str, to: JobStatus, changes: Fields) -> JobRecord | None:
        """End our claim with `to` (completed, failed, or pending to hand it back)."""
        now = now_iso()
        fields = {**changes, **_state_fields(to, now), "claim_owner": None}
        if to.is_terminal:
            fields["finished_at"] = now
        return self._owned(job_id, owner, fields)


@dataclass(frozen=True)
class StreamedJob:
    """One change of a job's item, as the table's stream reports it: the job before and
    after (None where the item did not exist), and the change's place in the stream."""

    sequence_number: str
    old: JobRecord | None
    new: JobRecord | None


_deserializer = TypeDeserializer()


def streamed_job(record: dict[str, Any]) -> StreamedJob | None:
    """A job's change from a record of a Lambda DynamoDB stream event; None for other items."""
    change = record["dynamodb"]
    if not change["Keys"]["pk"]["S"].startswith(f"{JobRepository.kind}#"):
        return None

    def job(image: Item | None) -> JobRecord | None:
        if not image:
            return None
        return JobRecord.model_validate(from_dynamo({k: _deserializer.deserialize(v) for k, v in image.items()}))

    return StreamedJob(change["SequenceNumber"], job(change.get("OldImage")), job(change.get("NewImage")))
