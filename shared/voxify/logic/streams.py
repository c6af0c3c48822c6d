"""Following a streaming job's audio as the worker writes it, and letting it go.

The worker stores a streaming job's chunks under the attempt's prefix and counts them in the
job item's `stream` record (voxify_worker.work.streaming). A follower reads that record (one
consistent GetItem per poll) and fetches the chunks it has not handed out yet. The chunks of
one attempt join into one stream; should the job be restarted on another attempt after some
of its chunks went out, the new attempt's chunks would not continue them, so the stream ends
there (the whole file still comes, as for any job).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from voxify.domain.jobs import JobRecord
from voxify.errors import ErrorCode, VoxifyError
from voxify.logic.jobs import cancel_job
from voxify.observability import logger
from voxify.repositories.jobs import JobRepository
from voxify.storage import AudioStore, stream_chunk_key


@dataclass
class ChunkFollower:
    """Hands out a streaming job's chunks in order, each once."""

    job_id: str
    sent: int = 0
    attempt: int | None = None  # the attempt whose chunks went out, once one has
    _jobs: JobRepository = field(default_factory=JobRepository)
    _store: AudioStore = field(default_factory=AudioStore)

    def poll(self) -> tuple[list[bytes], bool]:
        """The chunks written since the last poll, and whether the stream is over (every
        chunk handed out, or the job ended or was restarted without finishing it)."""
        job = self._jobs.get(self.job_id)
        if job is None:
            return [], True
        progress = job.stream
        if progress is None:
            return [], job.status.is_terminal
        if self.attempt not in (None, progress.attempt):
            logger.warning("job restarted mid-stream: the stream ends", extra={"job_id": self.job_id})
            return [], True
        fresh = [
            self._store.get(stream_chunk_key(job.user_id, job.job_id, progress.attempt, index))
            for index in range(self.sent, progress.chunks)
        ]
        if fresh:
            self.sent, self.attempt = progress.chunks, progress.attempt
        return fresh, progress.ended or job.status.is_terminal


def stop_unheard(job: JobRecord) -> None:
    """Cancel a streaming job whose listener went away, unless it has finished already."""
    try:
        cancel_job(job.user_id, job.job_id)
    except VoxifyError as error:
        if error.code != ErrorCode.INVALID_STATE:
            raise
        return
    logger.info("listener went away: job cancelled", extra={"job_id": job.job_id})
