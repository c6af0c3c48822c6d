"""No work is stranded: jobs whose worker or message was lost are found and moved on.

A processing job whose claim ran out lost its worker: it goes back to pending and is queued
again, or fails with RETRIES_EXHAUSTED once it has been attempted `job_max_attempts` times
(a job that kills every worker that takes it must not circle for ever). A pending job older
than a few minutes may have lost its message (the API process died between record and
message): it is queued again; duplicates are harmless because only one claim can win.

Runs on a schedule outside the workers (so it runs when the worker service has scaled to
zero) and inside each worker as a backstop.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from voxify.clock import epoch
from voxify.domain.jobs import JobRecord, JobStatus
from voxify.errors import ErrorCode
from voxify.logic.batches import reconcile_stalled_batches
from voxify.observability import logger
from voxify.queue import WorkMessage, WorkQueue
from voxify.repositories.jobs import JobRepository
from voxify.settings import get_settings

PENDING_STALE_AFTER = timedelta(minutes=10)


def recover() -> int:
    """Everything the scheduled recovery does; how many jobs and batches it moved on."""
    return sweep_stale_jobs() + reconcile_stalled_batches()


def sweep_stale_jobs() -> int:
    """Requeue (or end) what lost its worker or its message; how many jobs were moved on."""
    jobs, queue = JobRepository(), WorkQueue()
    moved = sum(_recover_stalled(job, jobs, queue) for job in jobs.list_in_state(JobStatus.PROCESSING))
    cutoff = datetime.now(UTC) - PENDING_STALE_AFTER
    for job in jobs.list_in_state(JobStatus.PENDING):
        stale = datetime.fromisoformat(job.updated_at.replace("Z", "+00:00")) < cutoff
        if stale and jobs.update_fields(job.job_id, {"progress_message": "requeued"}, only_in=[JobStatus.PENDING]):
            queue.send(WorkMessage(kind="synthesis", id=job.job_id, user_id=job.user_id))
            moved += 1
    if moved:
        logger.info("stale jobs moved on", extra={"count": moved})
    return moved


def _recover_stalled(job: JobRecord, jobs: JobRepository, queue: WorkQueue) -> bool:
    if job.claim_is_live(epoch()):
        return False  # its worker still holds it
    if job.attempts >= get_settings().job_max_attempts:
        message = job.last_error or f"the job stalled or crashed its worker {job.attempts} times"
        failed = jobs.transition(
            job.job_id,
            JobStatus.FAILED,
            [JobStatus.PROCESSING],
            {"claim_owner": None, "error_code": ErrorCode.RETRIES_EXHAUSTED.value, "error_message": message},
        )
        return failed is not None
    requeued = jobs.transition(
        job.job_id,
        JobStatus.PENDING,
        [JobStatus.PROCESSING],
        {"claim_owner": None, "progress_message": "requeued after a stalled worker"},
    )
    if requeued:
        queue.send(WorkMessage(kind="synthesis", id=job.job_id, user_id=job.user_id))
    return requeued is not None
