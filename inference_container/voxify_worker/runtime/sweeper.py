"""The stale-job rule: no job stays `processing` (or quietly `pending`) forever.

A processing job whose claim lease ran out lost its worker: it goes back to pending and is
queued again. A pending job older than a few minutes whose enqueue may have been lost (the
API process died between record and message) is queued again too; duplicates are harmless
because only one claim can win.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from voxify.clock import epoch
from voxify.domain.jobs import JobStatus
from voxify.observability import logger
from voxify.queue import WorkMessage, WorkQueue
from voxify.repositories.jobs import JobRepository

PENDING_STALE_AFTER = timedelta(minutes=10)


def sweep_stale_jobs(jobs: JobRepository, queue: WorkQueue) -> int:
    """Re-queue what lost its worker or its message; returns how many jobs were re-queued."""
    requeued = 0
    for job in jobs.list_in_state(JobStatus.PROCESSING):
        if (job.claim_expires or 0) < epoch() and jobs.transition(
            job.job_id,
            JobStatus.PENDING,
            [JobStatus.PROCESSING],
            {"claim_owner": None, "progress_message": "requeued after a stalled worker"},
        ):
            queue.send(WorkMessage(kind="synthesis", id=job.job_id, user_id=job.user_id))
            requeued += 1
    cutoff = datetime.now(UTC) - PENDING_STALE_AFTER
    for job in jobs.list_in_state(JobStatus.PENDING):
        stale = datetime.fromisoformat(job.updated_at.replace("Z", "+00:00")) < cutoff
        if stale and jobs.update_fields(job.job_id, {"progress_message": "requeued"}, only_in=[JobStatus.PENDING]):
            queue.send(WorkMessage(kind="synthesis", id=job.job_id, user_id=job.user_id))
            requeued += 1
    if requeued:
        logger.info("stale jobs requeued", extra={"count": requeued})
    return requeued


class Sweeper(threading.Thread):
    def __init__(self, interval: float, stop: threading.Event) -> None:
        super().__init__(name="sweeper", daemon=True)
        self._interval, self._stop_event = interval, stop

    def run(self) -> None:
        jobs, queue = JobRepository(), WorkQueue()
        while not self._stop_event.wait(self._interval):
            try:
                sweep_stale_jobs(jobs, queue)
            except Exception:
                logger.exception("stale-job sweep failed")
