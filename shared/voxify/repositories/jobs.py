"""Job records (pk `JOB#{id}`): listed per owner through gsi1, per state through gsi2.

Every state transition is a conditional write, so a duplicate or late queue delivery can
never move a job backwards or produce a second output.
"""

from __future__ import annotations

from typing import Any

from voxify.clock import now_iso
from voxify.domain.jobs import TERMINAL, JobStatus
from voxify.repositories.base import TableRepository, strip_keys


def job_key(job_id: str) -> dict[str, str]:
    return {"pk": f"JOB#{job_id}", "sk": "JOB"}


def _state_keys(status: str, at: str) -> dict[str, str]:
    return {"gsi2pk": f"JOBSTATE#{status}", "gsi2sk": at}


class JobRepository(TableRepository):
    def create(self, job: dict[str, Any]) -> None:
        self._put({**job_key(job["job_id"]),
                   "gsi1pk": f"USER#{job['user_id']}#JOBS", "gsi1sk": job["created_at"],
                   **_state_keys(job["status"], job["created_at"]), **job},
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
        """Oldest first: the stale-claim sweep and admin views read this."""
        return [strip_keys(i) for i in
                self._query_index("gsi2", f"JOBSTATE#{status.value}", newest_first=False)]

    def transition(self, job_id: str, to: JobStatus, from_states: list[JobStatus],
                   changes: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """Move a job from one of `from_states` to `to`; None when it was in no such state."""
        now = now_iso()
        fields = {**(changes or {}), "status": to.value, "updated_at": now,
                  **_state_keys(to.value, now)}
        if to.is_terminal:
            fields.setdefault("finished_at", now)
        names = {f"#f{i}": key for i, key in enumerate(fields)}
        values: dict[str, Any] = {f":v{i}": value for i, value in enumerate(fields.values())}
        values.update({f":from{i}": s.value for i, s in enumerate(from_states)})
        names["#status"] = "status"
        item = self._update(
            f"JOB#{job_id}", "JOB",
            UpdateExpression="SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(fields))),
            ConditionExpression="attribute_exists(pk) AND #status IN ("
            + ", ".join(f":from{i}" for i in range(len(from_states))) + ")",
            ExpressionAttributeNames=names, ExpressionAttributeValues=values,
        )
        return strip_keys(item) if item else None

    def update_fields(self, job_id: str, changes: dict[str, Any],
                      only_in: list[JobStatus]) -> dict[str, Any] | None:
        """Change fields without a transition, only while in `only_in` (e.g. PUT while pending)."""
        fields = {**changes, "updated_at": now_iso()}
        names = {f"#f{i}": key for i, key in enumerate(fields)}
        names["#status"] = "status"
        values: dict[str, Any] = {f":v{i}": value for i, value in enumerate(fields.values())}
        values.update({f":in{i}": s.value for i, s in enumerate(only_in)})
        item = self._update(
            f"JOB#{job_id}", "JOB",
            UpdateExpression="SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(fields))),
            ConditionExpression="attribute_exists(pk) AND #status IN ("
            + ", ".join(f":in{i}" for i in range(len(only_in))) + ")",
            ExpressionAttributeNames=names, ExpressionAttributeValues=values,
        )
        return strip_keys(item) if item else None

    def mark_failed(self, job_id: str, code: str, message: str) -> bool:
        """Fail a job that is not finished yet; False when it was already terminal or absent."""
        open_states = [s for s in JobStatus if s.value not in TERMINAL]
        return self.transition(job_id, JobStatus.FAILED, open_states,
                               {"error_code": code, "error_message": message}) is not None

    def delete(self, job_id: str) -> None:
        self._delete(f"JOB#{job_id}", "JOB")
