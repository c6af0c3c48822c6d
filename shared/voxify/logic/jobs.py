"""Synthesis jobs: submission, listing, edits, cancellation, deletion, waiting, dead letters.

Submitting a job writes the record and takes one unit of the daily quota in one transaction,
and enqueues second. If the enqueue fails the job is failed at once (QUEUE_UNAVAILABLE) and the quota
refunded, so there is never a message for a job that does not exist, nor a pending job the
API knows nobody will process; a process that dies between the two steps leaves a pending
job that the worker's stale-job sweep re-enqueues.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Literal

from voxify.cache import LruCache
from voxify.clock import epoch, new_id, now_iso
from voxify.domain.jobs import (
    Block,
    Job,
    JobBlock,
    JobCreate,
    JobRecord,
    JobStatus,
    JobUpdate,
    pitch_pair,
    rate_problem,
)
from voxify.domain.users import Role
from voxify.domain.voices import CloneRecord
from voxify.errors import ErrorCode, VoxifyError, found
from voxify.logic.usage import create_steps, give_back_quota, raise_refusal
from voxify.logic.voices import clone_of_sample, require_usable
from voxify.observability import logger
from voxify.queue import WorkMessage, WorkQueue, enqueue_or_undo
from voxify.repositories.base import Fields, write_together
from voxify.repositories.jobs import JobRepository
from voxify.repositories.runtime_config import RuntimeConfigRepository
from voxify.repositories.users import UserRepository
from voxify.repositories.voices import CloneRepository
from voxify.settings import get_settings
from voxify.storage import AudioStore, output_prefix

SortField = Literal["created_at", "updated_at", "status", "duration_seconds"]
JobSource = Literal["api", "dropfolder", "event"]
POLL_SECONDS = 0.25


VOICE_CACHE_ENTRIES = 1024


@cache
def _recent_voices() -> LruCache[tuple[str, str], CloneRecord]:
    return LruCache(VOICE_CACHE_ENTRIES, ttl_seconds=get_settings().voice_cache_seconds)


def forget_recent_voices() -> None:
    """Drop every voice a create resolved, and read the cache's lifetime again."""
    _recent_voices.cache_clear()


def resolve_voice(user_id: str, voice_id: str | None, *, recent: bool = False) -> str:
    """The id of the clone a job speaks with (see voice_of)."""
    return voice_of(user_id, voice_id, recent=recent).clone_id


def voice_of(user_id: str, voice_id: str | None, *, recent: bool = False) -> CloneRecord:
    """The clone a job speaks with: the one named (a sample id names the clone made of it),
    else the user's active voice; it must be usable. With `recent`, as resolved at most
    `voice_cache_seconds` ago: for a create whose transaction checks each voice again."""
    if voice_id is None:
        users = UserRepository()
        user = users.recent(user_id) if recent else users.get(user_id)
        voice_id = user.active_voice_id if user else None
        if not voice_id:
            raise VoxifyError(ErrorCode.NO_ACTIVE_VOICE, "name a voice_model_id or select an active voice first")
    named: str = voice_id
    if recent:
        return _recent_voices().get_or_load((user_id, named), lambda: _usable_voice(user_id, named))
    return _usable_voice(user_id, named)


def _usable_voice(user_id: str, voice_id: str) -> CloneRecord:
    clone = CloneRepository().get_owned(voice_id, user_id) or clone_of_sample(user_id, voice_id)
    if clone is None:
        raise VoxifyError(ErrorCode.NOT_FOUND, f"voice clone {voice_id} not found", {"voice_model_id": voice_id})
    require_usable(clone)
    return clone


def _resolved_block(user_id: str, block: Block, recent: bool) -> JobBlock:
    voice = resolve_voice(user_id, block.voice_model_id, recent=recent) if block.voice_model_id else None
    return JobBlock(text=block.text, voice_model_id=voice, wait_after_ms=block.wait_after_ms)


def submit_job(
    user_id: str,
    request: JobCreate,
    *,
    source: JobSource = "api",
    batch_id: str | None = None,
    job_id: str | None = None,
    batch_output_name: str | None = None,
    correlation_id: str | None = None,
    count_request: bool = False,
) -> JobRecord:
    """The one way a job comes to be, whatever asked for it (HTTP, drop folder, event).

    One transaction writes the pending record, spends a unit of the daily job quota, counts
    the request against the per-minute limit (`count_request`: an HTTP create, which is not
    counted before it) and checks that each voice is still the caller's and ready; then the
    queue message is sent. The voices are those resolved recently, so a warm create costs
    just those two round trips; should one have changed since, the create resolves its voices
    from the table and tries once more. A job whose id exists already (a redelivery that
    derives its id) costs nothing and is queued again: claims are conditional, so a second
    message never makes a second output. Its state-change event comes from the table's
    stream (voxify.logic.job_events)."""
    jobs = JobRepository()
    refused: str | None = None
    for recent in (True, False):
        job = _new_job(user_id, request, source, batch_id, job_id, batch_output_name, correlation_id, recent)
        usage = create_steps(user_id, "job", count_request=count_request)
        voices = sorted({v for v in (job.voice_model_id, *(b.voice_model_id for b in job.blocks)) if v})
        clones = CloneRepository()
        refused = write_together(
            [*(clones.ready_step(v, user_id) for v in voices), *usage.steps, jobs.create_step(job)]
        )
        if refused is None or refused == "job":
            break
        raise_refusal(refused, "job")
        _recent_voices().clear()  # a voice changed since it was resolved
    if refused == "job":
        job = jobs.get(job.job_id) or job
        enqueue_or_undo(WorkMessage(kind="synthesis", id=job.job_id, user_id=user_id), lambda: None, "job")
        return job
    if refused is not None:
        raise VoxifyError(ErrorCode.VOICE_NOT_READY, "the job's voice changed while it was created; try again")

    def undo() -> None:
        jobs.mark_failed(job.job_id, ErrorCode.QUEUE_UNAVAILABLE, "the job could not be queued")
        give_back_quota(user_id, "job", usage.day)

    enqueue_or_undo(WorkMessage(kind="synthesis", id=job.job_id, user_id=user_id), undo, "job")
    return job


# A bulk create writes at most this many jobs per transaction: TransactWriteItems takes 100
# items (the jobs, the quota step and a check per voice) and 4 MB, held well under here.
BULK_CHUNK_JOBS = 50
BULK_CHUNK_BYTES = 3_000_000


@dataclass(frozen=True)
class BulkJob:
    """One job of a bulk create, with the id its caller derived for it."""

    job_id: str
    request: JobCreate
    batch_output_name: str | None = None


BulkOutcome = JobRecord | VoxifyError | None


def submit_jobs(
    user_id: str, wanted: Sequence[BulkJob], *, source: JobSource, batch_id: str | None = None
) -> list[BulkOutcome]:
    """Many jobs at once (a drop-folder manifest's lines), as `submit_job` makes one but in
    bulk: each chunk of up to BULK_CHUNK_JOBS jobs is one transaction (every job record,
    the chunk's units of the daily quota, a check per voice) and its messages go out in
    SendMessageBatch calls of ten. Per job, in order: the pending record made; the
    VoxifyError that refused it (its voice, or its queue message, whose job is then failed
    and its unit refunded as `submit_job` does); or None where the chunk's transaction was
    refused as a whole (a job that exists already, the quota running out part way, a voice
    that changed): the caller submits those one at a time, which sorts out each one's
    fate exactly as before."""
    outcomes: list[BulkOutcome] = [None] * len(wanted)
    made: list[tuple[int, JobRecord]] = []
    for index, item in enumerate(wanted):
        try:
            job = _new_job(user_id, item.request, source, batch_id, item.job_id, item.batch_output_name, None, True)
        except VoxifyError as error:
            outcomes[index] = error
            continue
        made.append((index, job))
    for chunk in _chunks(made):
        for index, outcome in _write_chunk(user_id, chunk):
            outcomes[index] = outcome
    return outcomes


def _chunks(made: list[tuple[int, JobRecord]]) -> Iterator[list[tuple[int, JobRecord]]]:
    chunk: list[tuple[int, JobRecord]] = []
    size = 0
    for entry in made:
        entry_size = len(entry[1].model_dump_json())
        if chunk and (len(chunk) >= BULK_CHUNK_JOBS or size + entry_size > BULK_CHUNK_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(entry)
        size += entry_size
    if chunk:
        yield chunk


def _write_chunk(user_id: str, chunk: list[tuple[int, JobRecord]]) -> Iterator[tuple[int, BulkOutcome]]:
    """One transaction for the chunk's jobs, then their messages; nothing (every job of the
    chunk left to a one-at-a-time create) when the transaction was refused."""
    jobs = [job for _, job in chunk]
    if len(jobs) > RuntimeConfigRepository().current().daily_quota("job"):
        return  # more than a whole day's quota: only one at a time can say which lines fit
    repository = JobRepository()
    usage = create_steps(user_id, "job", count_request=False, units=len(jobs))
    voices = sorted({v for job in jobs for v in (job.voice_model_id, *(b.voice_model_id for b in job.blocks)) if v})
    clones = CloneRepository()
    steps = [*(clones.ready_step(v, user_id) for v in voices), *usage.steps, *(repository.create_step(j) for j in jobs)]
    if write_together(steps) is not None:
        logger.info("bulk create refused; its jobs are made one at a time", extra={"jobs": len(jobs)})
        return
    messages = [WorkMessage(kind="synthesis", id=job.job_id, user_id=user_id) for job in jobs]
    unsent = {message.id for message in WorkQueue().send_all(messages)}
    for index, job in chunk:
        if job.job_id not in unsent:
            yield index, job
            continue
        repository.mark_failed(job.job_id, ErrorCode.QUEUE_UNAVAILABLE, "the job could not be queued")
        give_back_quota(user_id, "job", usage.day)
        yield index, VoxifyError(ErrorCode.QUEUE_UNAVAILABLE, "the job could not be queued; try again")


def _new_job(
    user_id: str,
    request: JobCreate,
    source: JobSource,
    batch_id: str | None,
    job_id: str | None,
    batch_output_name: str | None,
    correlation_id: str | None,
    recent: bool,
) -> JobRecord:
    voice = voice_of(user_id, request.voice_model_id, recent=recent)
    now = now_iso()
    return JobRecord.model_validate(
        {
            **request.model_dump(exclude={"text_content", "blocks"}),
            "job_id": job_id or new_id("job"),
            "user_id": user_id,
            "status": JobStatus.PENDING,
            "voice_model_id": voice.clone_id,
            "text_language": request.text_language or voice.language,
            "blocks": [_resolved_block(user_id, b, recent) for b in request.as_blocks()],
            "source": source,
            "batch_id": batch_id,
            "progress_message": "queued",
            "created_at": now,
            "updated_at": now,
            "batch_output_name": batch_output_name,
            "correlation_id": correlation_id,
        }
    )


def get_job(user_id: str, job_id: str) -> JobRecord:
    return found(JobRepository().get_owned(job_id, user_id), "job")


def full_view(job: JobRecord) -> Job:
    """The job as its own GET shows it, with timestamps too large for its item (kept in S3
    beside the audio) read back; listings leave those out."""
    public = job.public()
    if job.timestamps_key:
        public.timestamps = json.loads(AudioStore().get(job.timestamps_key))
    return public


WORDS_PER_SECOND = 2.5  # ordinary speaking pace


def estimated_seconds(job: Job) -> int:
    """Roughly how long the speech will last, from its words, its pauses and its speed."""
    pauses = sum(block.wait_after_ms for block in job.blocks) / 1000
    return max(1, round((job.word_count or 0) / WORDS_PER_SECOND / job.speed + pauses))


def blocks_done(job: JobRecord) -> int:
    """How many of the job's blocks are rendered, read from its progress: the worker spends
    5% before the first block and shares 90% equally among the blocks, in order."""
    count = len(job.blocks)
    if job.status == JobStatus.COMPLETED:
        return count
    return max(0, min(count - 1, int((job.progress - 5) * count // 90)))


def find_job(job_id: str) -> JobRecord | None:
    """A job by id, whoever owns it: for callers that derived the id themselves."""
    return JobRepository().get(job_id)


def jobs_owner(caller_id: str, caller_role: Role, user_id: str | None) -> str:
    """Whose jobs a caller may list: their own, and any user's for an administrator."""
    if user_id is None or user_id == caller_id:
        return caller_id
    if caller_role != Role.ADMIN:
        raise VoxifyError(ErrorCode.FORBIDDEN, "only administrators list other users' jobs")
    return user_id


def list_jobs(
    user_id: str,
    *,
    status: JobStatus | None = None,
    voice_model_id: str | None = None,
    project_id: str | None = None,
    text_search: str | None = None,
    sort_by: SortField = "created_at",
    sort_order: Literal["asc", "desc"] = "desc",
) -> list[JobRecord]:
    needle = text_search.lower() if text_search else None
    selected = [
        job
        for job in JobRepository().list_for(user_id)
        if (status is None or job.status == status)
        and (voice_model_id is None or job.voice_model_id == voice_model_id)
        and (project_id is None or job.project_id == project_id)
        and (needle is None or needle in job.text.lower())
    ]
    selected.sort(
        key=lambda job: (getattr(job, sort_by) is None, getattr(job, sort_by) or 0), reverse=sort_order == "desc"
    )
    return selected


def update_job(user_id: str, job_id: str, update: JobUpdate) -> JobRecord:
    """Edit a pending job's text or options; a PATCH with status=cancelled cancels it."""
    job = get_job(user_id, job_id)
    if update.status == "cancelled":
        return cancel_job(user_id, job_id)
    changes: Fields = update.model_dump(exclude_unset=True, exclude={"status", "text_content"})
    if "pitch" in changes or "pitch_semitones" in changes:
        changes["pitch"], changes["pitch_semitones"] = pitch_pair(changes.get("pitch"), changes.get("pitch_semitones"))
    if update.text_content is not None:
        changes["blocks"] = [JobBlock(text=update.text_content).model_dump()]
    if "voice_model_id" in changes:
        changes["voice_model_id"] = resolve_voice(user_id, changes["voice_model_id"])
    problem = rate_problem(
        changes.get("output_format", job.output_format), int(changes.get("sample_rate", job.sample_rate))
    )
    if problem:
        raise VoxifyError(ErrorCode.VALIDATION_ERROR, problem, [{"field": "sample_rate", "message": problem}])
    if not changes:
        return job
    updated = JobRepository().update_fields(job_id, changes, only_in=[JobStatus.PENDING])
    if updated is None:
        raise VoxifyError(
            ErrorCode.JOB_NOT_EDITABLE, "only pending jobs can be edited", {"status": get_job(user_id, job_id).status}
        )
    return updated


def cancel_job(user_id: str, job_id: str) -> JobRecord:
    job = get_job(user_id, job_id)
    if job.status == JobStatus.CANCELLED:
        return job
    cancelled = JobRepository().transition(
        job_id, JobStatus.CANCELLED, [JobStatus.PENDING, JobStatus.PROCESSING], {"progress_message": "cancelled"}
    )
    if cancelled is None:
        raise VoxifyError(
            ErrorCode.INVALID_STATE, "a finished job cannot be cancelled", {"status": get_job(user_id, job_id).status}
        )
    return cancelled


def delete_job(user_id: str, job_id: str) -> None:
    """Delete a job and its audio; refused while a worker is producing it."""
    job = get_job(user_id, job_id)
    if job.status == JobStatus.PROCESSING:
        raise VoxifyError(ErrorCode.JOB_PROCESSING, "cancel the job before deleting it")
    if job.status == JobStatus.PENDING:
        cancel_job(user_id, job_id)
    AudioStore().delete_prefix(output_prefix(user_id, job_id))
    JobRepository().delete(job_id)


def delete_output(user_id: str, job_id: str) -> JobRecord:
    """Remove a finished job's audio but keep its record."""
    job = get_job(user_id, job_id)
    if not job.status.is_terminal:
        raise VoxifyError(ErrorCode.JOB_PROCESSING, "the job has not finished")
    AudioStore().delete_prefix(output_prefix(user_id, job_id))
    return JobRepository().update_fields(job_id, {"output_key": None, "block_keys": []}, only_in=[job.status]) or job


def wait_for_job(job: JobRecord, timeout: float) -> JobRecord:
    """The job once it has ended, or as it is when `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    repository = JobRepository()
    while not job.status.is_terminal and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
        job = repository.get(job.job_id) or job
    return job


def fail_dead_job(job_id: str) -> JobRecord | None:
    """A job whose work message exhausted its deliveries fails with its last error (once:
    a job that already ended is left as it is). A job a live worker still holds is left to
    it: if that worker dies, the stale-job sweep ends or requeues it. The failed job, or None."""
    jobs = JobRepository()
    job = jobs.get(job_id)
    if job is not None and job.claim_is_live(epoch()):
        return None
    last_error = (job.last_error if job else None) or "the job's message exhausted its delivery attempts"
    return jobs.mark_failed(job_id, ErrorCode.RETRIES_EXHAUSTED, last_error)
