"""Job records (pk `JOB#{id}`): listed per owner through gsi1, per state through gsi2.

Every state transition is a conditional write, so a duplicate or late queue delivery can
never move a job backwards or produce a second output. A worker *claims* a job for a lease
it keeps renewing; a claim whose lease ran out (its worker died) can be taken over.
Each write that a progress stream should see bumps `progress_version` (the SSE event id).
"""

from __future__ import annotations

from typing import Any

from voxify.clock import epoch, now_iso
from voxify.domain.jobs import TERMINAL, JobStatus
from voxify.repositories.base import TableRepository, strip_keys

_STATUS = {"#status": "status"}
_BUMP = {"progress_version": 1}


def job_key(job_id: str) -> dict[str, str]:
    return {"pk": f"JOB#{job_id}", "sk": "JOB"}


def _state_fields(status: str, at: str) -> dict[str, str]:
    return {"status": status, "updated_at": at, "gsi2pk": f"JOBSTATE#{status}", "gsi2sk": at}


def _in_states(states: list[JobStatus]) -> tuple[str, dict[str, str]]:
    values = {f":st{i}": s.value for i, s in enumerate(states)}
    return "#status IN (" + ", ".join(values) + ")", values


class JobRepository(TableRepository):
    def create(self, job: dict[str, Any]) -> None:
        self._put({**job_key(job["job_id"]),
                   "gsi1pk": f"USER#{job['user_id']}#JOBS", "gsi1sk": job["created_at"],
                   **_state_fields(job["status"], job["created_at"]), **job},
                  condition="attribute_not_exists(pk)")

    def get(self, job_id: str) -> dict[str, Any] | None:
        item = self._get(f"JOB#{job_id}", "JOB")
        return strip_keys(item) if item else None

    def get_owned(self, job_id: str, user_id: str) -> dict[str, Any] | None:
        job = self.get(job_id)
        return job if job and job["user_id"] == user_id else None

    def list_for(self, user_id: str) -> list[dict[str, Any]]:
        return [strip_keys(i) for i in self._query_index("gsi1", f"USER#{user_id}#JOBS")]

    def list_in_state(self, status: JobStatus) -> list[dict[str, Any]]:
        """Oldest first: the stale-job sweep and admin views read this."""
        return [strip_keys(i) for i in
                self._query_index("gsi2", f"JOBSTATE#{status.value}", newest_first=False)]

    def _write(self, job_id: str, fields: dict[str, Any], condition: str,
               values: dict[str, Any]) -> dict[str, Any] | None:
        item = self._set_fields(f"JOB#{job_id}", "JOB", fields, "attribute_exists(pk) AND " + condition,
                                values, _STATUS, _BUMP)
        return strip_keys(item) if item else None

    def transition(self, job_id: str, to: JobStatus, from_states: list[JobStatus],
                   changes: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """Move a job from one of `from_states` to `to`; None when it was in no such state."""
        now = now_iso()
        fields = {**(changes or {}), **_state_fields(to.value, now)}
        if to.is_terminal:
            fields.setdefault("finished_at", now)
        condition, values = _in_states(from_states)
        return self._write(job_id, fields, condition, values)

    def update_fields(self, job_id: str, changes: dict[str, Any],
                      only_in: list[JobStatus]) -> dict[str, Any] | None:
        """Change fields without a transition, only while in `only_in` (e.g. PUT while pending)."""
        condition, values = _in_states(only_in)
        return self._write(job_id, {**changes, "updated_at": now_iso()}, condition, values)

    def mark_failed(self, job_id: str, code: str, message: str) -> dict[str, Any] | None:
        """Fail a job that is not finished yet; the failed job, or None when it was already
        terminal or absent."""
        open_states = [s for s in JobStatus if s.value not in TERMINAL]
        return self.transition(job_id, JobStatus.FAILED, open_states,
                               {"error_code": code, "error_message": message})

    # ---------------------------------------------------------------- claims
    def claim(self, job_id: str, owner: str, lease_seconds: int) -> dict[str, Any] | None:
        """Take a pending job, or a processing one whose lease ran out; None otherwise."""
        now = now_iso()
        fields = {**_state_fields(JobStatus.PROCESSING.value, now), "claim_owner": owner,
                  "claim_expires": epoch() + lease_seconds, "started_at": now,
                  "progress_message": "started"}
        condition = "(#status = :pending OR (#status = :processing AND claim_expires < :now))"
        return self._write(job_id, fields, condition, {
            ":pending": JobStatus.PENDING.value, ":processing": JobStatus.PROCESSING.value,
            ":now": epoch()})

    def _owned(self, job_id: str, owner: str, fields: dict[str, Any]) -> dict[str, Any] | None:
        return self._write(job_id, fields, "#status = :processing AND claim_owner = :owner",
                           {":processing": JobStatus.PROCESSING.value, ":owner": owner})

    def renew(self, job_id: str, owner: str, lease_seconds: int) -> bool:
        return self._owned(job_id, owner, {"claim_expires": epoch() + lease_seconds}) is not None

    def report_progress(self, job_id: str, owner: str, percent: int, message: str) -> bool:
        """False when the job is no longer ours to work on (cancelled, or taken over)."""
        return self._owned(job_id, owner, {"progress": percent, "progress_message": message,
                                           "updated_at": now_iso()}) is not None

    def finish(self, job_id: str, owner: str, to: JobStatus, changes: dict[str, Any]) -> dict[str, Any] | None:
        """End our claim with `to` (completed, failed, or pending to hand it back)."""
        now = now_iso()
        fields = {**changes, **_state_fields(to.value, now), "claim_owner": None}
        if to.is_terminal:
            fields["finished_at"] = now
        return self._owned(job_id, owner, fields)

    def delete(self, job_id: str) -> None:
        self._delete(f"JOB#{job_id}", "JOB")
