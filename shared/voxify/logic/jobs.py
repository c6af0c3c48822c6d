"""Synthesis jobs: creation, listing, edits, cancellation, deletion.

Creating a job writes the record first and enqueues second. If the enqueue fails the job is
failed at once (QUEUE_UNAVAILABLE) and the quota refunded, so there is never a message for
a job that does not exist, nor a pending job the API knows nobody will process; a process
that dies between the two steps leaves a pending job that the worker's stale-job sweep
re-enqueues.
"""

from __future__ import annotations

from typing import Any, Literal

from voxify.clock import new_id, now_iso
from voxify.domain.jobs import TERMINAL, JobCreate, JobStatus, JobUpdate, rate_problem
from voxify.errors import ErrorCode, VoxifyError, found
from voxify.events import EventPublisher
from voxify.logic.voices import require_usable
from voxify.queue import WorkMessage, enqueue_or_undo
from voxify.repositories.jobs import JobRepository
from voxify.repositories.users import UserRepository
from voxify.repositories.voices import CloneRepository
from voxify.storage import AudioStore, output_prefix

SortField = Literal["created_at", "updated_at", "status", "duration_seconds"]


def resolve_voice(user_id: str, voice_id: str | None) -> str:
    """The clone a job speaks with: the one named, else the user's active voice."""
    if voice_id is None:
        user = UserRepository().get(user_id) or {}
        voice_id = user.get("active_voice_id")
        if not voice_id:
            raise VoxifyError(ErrorCode.NO_ACTIVE_VOICE,
                              "name a voice_model_id or select an active voice first")
    clone = CloneRepository().get_owned(voice_id, user_id)
    if clone is None:
        raise VoxifyError(ErrorCode.NOT_FOUND, f"voice clone {voice_id} not found",
                          {"voice_model_id": voice_id})
    require_usable(clone)
    return voice_id


def create_job(user_id: str, request: JobCreate, *, source: str = "api", batch_id: str | None = None,
               job_id: str | None = None, labels: dict[str, Any] | None = None) -> dict[str, Any]:
    """A pending job, queued. `labels` ride along on the record and in its events (a batch
    line's output name, an inbound request's correlation id)."""
    voice_id = resolve_voice(user_id, request.voice_model_id)
    blocks = [block.model_dump() for block in request.as_blocks()]
    for block in blocks:
        if block["voice_model_id"]:
            block["voice_model_id"] = resolve_voice(user_id, block["voice_model_id"])
    now = now_iso()
    job = {
        **request.model_dump(exclude={"text_content", "blocks"}),
        "job_id": job_id or new_id("job"), "user_id": user_id, "status": JobStatus.PENDING.value,
        "voice_model_id": voice_id, "blocks": blocks, "source": source, "batch_id": batch_id,
        "progress": 0, "progress_message": "queued", "progress_version": 0,
        "output_key": None, "block_keys": [], "created_at": now, "updated_at": now, **(labels or {}),
    }
    jobs = JobRepository()
    jobs.create(job)
    enqueue_or_undo(WorkMessage(kind="synthesis", id=job["job_id"], user_id=user_id),
                    lambda: jobs.mark_failed(job["job_id"], ErrorCode.QUEUE_UNAVAILABLE, "the job could not be queued"),
                    "job")
    EventPublisher().job_changed(job)
    return job


def get_job(user_id: str, job_id: str) -> dict[str, Any]:
    return found(JobRepository().get_owned(job_id, user_id), "job")


def list_jobs(user_id: str, *, status: JobStatus | None = None, voice_model_id: str | None = None,
              project_id: str | None = None, text_search: str | None = None,
              sort_by: SortField = "created_at", sort_order: Literal["asc", "desc"] = "desc",
              ) -> list[dict[str, Any]]:
    jobs = JobRepository().list_for(user_id)
    needle = text_search.lower() if text_search else None
    selected = [
        job for job in jobs
        if (status is None or job["status"] == status.value)
        and (voice_model_id is None or job["voice_model_id"] == voice_model_id)
        and (project_id is None or job.get("project_id") == project_id)
        and (needle is None or needle in " ".join(b["text"] for b in job["blocks"]).lower())
    ]
    selected.sort(key=lambda job: (job.get(sort_by) is None, job.get(sort_by) or 0),
                  reverse=sort_order == "desc")
    return selected


def update_job(user_id: str, job_id: str, update: JobUpdate) -> dict[str, Any]:
    """Edit a pending job's text or options; a PATCH with status=cancelled cancels it."""
    job = get_job(user_id, job_id)
    if update.status == "cancelled":
        return cancel_job(user_id, job_id)
    changes = update.model_dump(exclude_unset=True, exclude={"status", "text_content"})
    if update.text_content is not None:
        changes["blocks"] = [{"text": update.text_content, "voice_model_id": None, "wait_after_ms": 0}]
    if "voice_model_id" in changes:
        changes["voice_model_id"] = resolve_voice(user_id, changes["voice_model_id"])
    problem = rate_problem(changes.get("output_format", job["output_format"]),
                           int(changes.get("sample_rate", job["sample_rate"])))
    if problem:
        raise VoxifyError(ErrorCode.VALIDATION_ERROR, problem, [{"field": "sample_rate", "message": problem}])
    if not changes:
        return job
    updated = JobRepository().update_fields(job_id, changes, only_in=[JobStatus.PENDING])
    if updated is None:
        raise VoxifyError(ErrorCode.JOB_NOT_EDITABLE, "only pending jobs can be edited",
                          {"status": get_job(user_id, job_id)["status"]})
    return updated


def cancel_job(user_id: str, job_id: str) -> dict[str, Any]:
    job = get_job(user_id, job_id)
    if job["status"] == JobStatus.CANCELLED:
        return job
    cancelled = JobRepository().transition(job_id, JobStatus.CANCELLED,
                                           [JobStatus.PENDING, JobStatus.PROCESSING],
                                           {"progress_message": "cancelled"})
    if cancelled is None:
        raise VoxifyError(ErrorCode.INVALID_STATE, "a finished job cannot be cancelled",
                          {"status": get_job(user_id, job_id)["status"]})
    EventPublisher().job_changed(cancelled)
    return cancelled


def delete_job(user_id: str, job_id: str) -> None:
    """Delete a job and its audio; refused while a worker is producing it."""
    job = get_job(user_id, job_id)
    if job["status"] == JobStatus.PROCESSING:
        raise VoxifyError(ErrorCode.JOB_PROCESSING, "cancel the job before deleting it")
    if job["status"] == JobStatus.PENDING:
        cancel_job(user_id, job_id)
    AudioStore().delete_prefix(output_prefix(user_id, job_id))
    JobRepository().delete(job_id)


def delete_output(user_id: str, job_id: str) -> dict[str, Any]:
    """Remove a finished job's audio but keep its record."""
    job = get_job(user_id, job_id)
    if job["status"] not in TERMINAL:
        raise VoxifyError(ErrorCode.JOB_PROCESSING, "the job has not finished")
    AudioStore().delete_prefix(output_prefix(user_id, job_id))
    return JobRepository().update_fields(job_id, {"output_key": None, "block_keys": []},
                                         only_in=[JobStatus(job["status"])]) or job


def public_job(job: dict[str, Any], include_text: bool = True) -> dict[str, Any]:
    """A job as the API shows it: internal fields out, text optional."""
    shown = {k: v for k, v in job.items() if k not in ("progress_version", "last_error")}
    if not include_text:
        shown["blocks"] = [{**b, "text": None} for b in job["blocks"]]
    return shown
