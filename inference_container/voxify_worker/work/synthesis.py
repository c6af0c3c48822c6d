"""`synthesize_job`: one synthesis job from claim to completed audio in S3.

Claim (conditional pending -> processing), then per block: reference voice, engine,
post-processing, per-block file (and, for a streaming job, each sentence's chunk as it is
made: work/streaming.py); then the combined file, and a conditional completion that
only the claiming worker can make. Cancellation is noticed at every progress report (the
conditional write fails once the job is no longer ours). Permanent errors (bad voice,
unsupported language) fail the job at once; anything else hands the job back to `pending`
with its last error and lets the queue redeliver (after maxReceiveCount the DLQ function
fails it with that error). Each state change reaches the bus from the table's stream
(voxify.logic.job_events), so a worker killed right after its write loses no announcement.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
from pydantic import BaseModel

from voxify.clock import epoch
from voxify.domain.jobs import JobRecord, JobStatus
from voxify.domain.watermarks import OutputWatermark
from voxify.errors import CodedError, ErrorCode
from voxify.logic.watermarks import outputs_marked
from voxify.observability import logger
from voxify.queue import WorkMessage
from voxify.repositories.jobs import JobRepository
from voxify.settings import get_settings
from voxify.storage import CONTENT_TYPES, AudioStore, attempt_prefix, block_key, output_key, timestamps_key
from voxify_worker.audio import check_output, concatenate, encode, postprocess, resample, silence
from voxify_worker.audio.watermark import Watermarker
from voxify_worker.engines.base import (
    BatchingEngine,
    Engine,
    EngineError,
    ReferenceVoice,
    SynthesisCancelled,
    SynthesisRequest,
    SynthesisResult,
    WordTiming,
)
from voxify_worker.runtime.consumer import Delivery, Rest, Step, WorkDeferred
from voxify_worker.runtime.lease import Lease
from voxify_worker.work.alignment import align_words
from voxify_worker.work.references import ReferenceCache
from voxify_worker.work.streaming import ChunkWriter
from voxify_worker.work.timestamps import timestamps
from voxify_worker.work.voice_context import VoiceContext, speaker_similarity

PROGRESS_MIN_INTERVAL_SECONDS = 1.0
# Timestamps beyond this stay in S3: a job item must stay under DynamoDB's 400 KB.
INLINE_TIMESTAMPS_BYTES = 64 * 1024


class JobAbandoned(Exception):
    """The job stopped being ours (cancelled by its user, or taken over after a stall)."""


@dataclass
class SynthesisContext:
    engine: Engine
    jobs: JobRepository
    store: AudioStore
    references: ReferenceCache
    worker_id: str
    watermarker: Watermarker
    # scores each output against its voice; None leaves `speaker_similarity` unset
    voices: VoiceContext | None = None


class ProgressReporter:
    """Coalesced progress writes; each doubles as the cancellation check.

    At most one write per PROGRESS_MIN_INTERVAL_SECONDS per job, forced or not: a report
    that comes sooner is left out (the next one, or the completion, says more). The claim
    counts as the first write. A cancellation check within that interval of the last write
    or check that found the job ours answers from it instead of reading the job again, so
    a cancelled job is noticed within about a second, and a short job costs no progress
    write at all (its completion is conditional on the claim, so a job cancelled meanwhile
    still never completes)."""

    def __init__(self, ctx: SynthesisContext, job_id: str, clock: Callable[[], float] = time.monotonic) -> None:
        self._ctx, self._job_id, self._clock = ctx, job_id, clock
        self._last = self._confirmed = clock()
        self.writes = 0

    def cancelled(self) -> bool:
        """Asked by engines between text chunks: is the job still ours to finish?"""
        now = self._clock()
        if now - self._confirmed < PROGRESS_MIN_INTERVAL_SECONDS:
            return False
        job = self._ctx.jobs.get(self._job_id)
        gone = job is None or job.status != JobStatus.PROCESSING or job.claim_owner != self._ctx.worker_id
        if not gone:
            self._confirmed = now
        return gone

    def __call__(self, percent: float, message: str, force: bool = False) -> None:
        """`force` marks a stage (encoding, uploading); it is coalesced all the same."""
        now = self._clock()
        if now - self._last < PROGRESS_MIN_INTERVAL_SECONDS:
            return
        self._last = now
        self.writes += 1
        if not self._ctx.jobs.report_progress(
            self._job_id, self._ctx.worker_id, int(max(0, min(99, percent))), message
        ):
            raise JobAbandoned(self._job_id)
        self._confirmed = now


class EngineRun(BaseModel):
    """Which engine and model made a job, and how fast (stored as the job's `engine`)."""

    name: str
    model: str
    version: str
    engine_seconds: float = 0.0
    rtf: float = 0.0
    wall_seconds: float = 0.0
    batched_with: int = 1  # jobs spoken in the same engine pass (its engine_seconds are the pass's)


@dataclass(frozen=True)
class RenderedBlock:
    """One block spoken, post-processed and stored, with its words on its own clock."""

    audio: np.ndarray
    key: str
    words: list[WordTiming]
    in_job_voice: bool
    engine_seconds: float
    engine: EngineRun


class JobOutcome(BaseModel):
    """What a completed job records."""

    output_key: str
    block_keys: list[str]
    duration_seconds: float
    timestamps: dict[str, Any] | None
    timestamps_key: str | None = None
    speaker_similarity: float | None
    engine: EngineRun
    watermark: OutputWatermark | None


@dataclass(frozen=True)
class _Started:
    """A claimed job: its progress reporter (the cancellation check), its lease, and when
    its work began."""

    job: JobRecord
    report: ProgressReporter
    lease: Lease
    started: float


def synthesize_job(work: WorkMessage, delivery: Delivery, ctx: SynthesisContext) -> Rest | None:
    """Run one job through the engine; returns the rest of it (post-processing, the files,
    the completion), which the consumer runs at once or while the next job's engine runs.
    The message can be deleted once both returned normally. The job's lease is renewed
    until the rest has run."""
    return _alone(_start(work, delivery, ctx), ctx)


def synthesize_jobs(items: Sequence[tuple[WorkMessage, Delivery]], ctx: SynthesisContext) -> list[Step]:
    """Jobs received together. With an engine that speaks many requests in one pass (F5 on
    a GPU), those of one block and no stream share one `synthesize_many` call; the others
    speak alone when their step runs. Each job answers by its own step: its rest, or its
    own error, exactly as `synthesize_job` would have."""
    steps: list[Step] = []
    together: dict[int, _Started] = {}
    for index, (work, delivery) in enumerate(items):
        try:
            started = _start(work, delivery, ctx)
        except Exception as error:  # deferred, or the claim failed: this message's own outcome
            steps.append(partial(_raise, error))
            continue
        if started is not None and _speaks_together(started.job, ctx):
            together[index] = started
        steps.append(partial(_alone, started, ctx))
    for index, spoken in _speak_together(together, ctx).items():
        steps[index] = partial(_then_rest, together[index], ctx, spoken)
    return steps


def _start(work: WorkMessage, delivery: Delivery, ctx: SynthesisContext) -> _Started | None:
    """The job claimed, with its lease running; None when there is nothing to do (a
    duplicate, late or finished delivery); WorkDeferred while another worker holds it."""
    logger.thread_safe_append_keys(job_id=work.id)
    job = ctx.jobs.claim(work.id, ctx.worker_id, get_settings().worker_lease_seconds)
    if job is None:
        _not_claimed(work.id, ctx)
        return None
    lease = Lease(delivery, ctx.jobs, job.job_id, ctx.worker_id).__enter__()
    return _Started(job, ProgressReporter(ctx, job.job_id), lease, time.monotonic())


def _then_rest(started: _Started, ctx: SynthesisContext, speak: Callable[[], Spoken]) -> Rest | None:
    """The job spoken (`speak`), and the rest that renders and completes it; None when it
    ended early (failed, cancelled), after saying so on the job."""
    job = started.job
    logger.thread_safe_append_keys(job_id=job.job_id)
    try:
        check_output(job.output_format, job.sample_rate)
        spoken = speak()
    except Exception as error:
        started.lease.__exit__()
        _ended_early(job, ctx, error)
        return None

    def rest() -> None:
        try:
            outcome = _render(job, spoken, ctx, started.report)
        except Exception as error:
            _ended_early(job, ctx, error)
            return
        finally:
            started.lease.__exit__()
        outcome.engine.wall_seconds = round(time.monotonic() - started.started, 3)
        _complete(job, outcome, ctx)

    return rest


def _alone(started: _Started | None, ctx: SynthesisContext) -> Rest | None:
    """A claimed job (if any) spoken on its own: a job received alone, or one of a batch
    with several blocks or a stream, or whose shared call failed as a whole."""
    if started is None:
        return None
    return _then_rest(started, ctx, lambda: _speak(started.job, ctx, started.report))


def _raise(error: Exception) -> Rest | None:
    raise error


def _speaks_together(job: JobRecord, ctx: SynthesisContext) -> bool:
    return isinstance(ctx.engine, BatchingEngine) and len(job.blocks) == 1 and not job.config.stream


def _speak_together(jobs: dict[int, _Started], ctx: SynthesisContext) -> dict[int, Callable[[], Spoken]]:
    """Jobs of one block each through one `synthesize_many` call: by the key in `jobs`,
    what each job's step speaks (its audio, or raises its own error). Empty when the call
    failed as a whole (out of memory, say): each job then speaks alone."""
    engine = ctx.engine
    if len(jobs) < 2 or not isinstance(engine, BatchingEngine):
        return {}
    marker = _watermarker(ctx)
    outcomes: dict[int, Callable[[], Spoken]] = {}
    asked: list[tuple[int, str, ReferenceVoice, SynthesisRequest]] = []
    for index, started in jobs.items():
        try:
            check_output(started.job.output_format, started.job.sample_rate)
            voice_id, request = _block_request(started.job, 0)
            if started.report.cancelled():
                raise SynthesisCancelled("cancelled before its batch")
            asked.append((index, voice_id, ctx.references.get(voice_id, started.job.user_id), request))
        except Exception as error:
            outcomes[index] = partial(_raise_spoken, error)
    tick = time.monotonic()
    try:
        results = engine.synthesize_many([(reference, request) for _, _, reference, request in asked])
    except Exception:
        logger.exception("a batch of jobs failed as a whole; each speaks alone")
        return {}
    seconds = time.monotonic() - tick
    for (index, voice_id, _, _), result in zip(asked, results, strict=True):
        if isinstance(result, EngineError):
            outcomes[index] = partial(_raise_spoken, result)
        else:
            outcomes[index] = partial(Spoken, [SpokenBlock(result, voice_id, seconds)], marker)
    return outcomes


def _raise_spoken(error: Exception) -> Spoken:
    raise error


def _ended_early(job: JobRecord, ctx: SynthesisContext, error: Exception) -> None:
    """A job whose work raised: abandoned (cancelled or taken over: its files go), failed
    for good (engine and audio errors: bad voice, language, format...), or handed back to
    `pending` with its last error, re-raised so that the queue redelivers it."""
    if isinstance(error, JobAbandoned | SynthesisCancelled):
        _discard_outputs(job, ctx)
        logger.info("job abandoned: cancelled or taken over")
        return
    if isinstance(error, CodedError):
        _fail(job, ctx, error.code, str(error))
        return
    last_error = f"{type(error).__name__}: {error}"
    ctx.jobs.finish(job.job_id, ctx.worker_id, JobStatus.PENDING, {"last_error": last_error})
    raise error


def _not_claimed(job_id: str, ctx: SynthesisContext) -> None:
    """A delivery that found the job not claimable: finished or gone (the message can go), or
    held by another worker's live claim (the message comes back when that claim would end, so
    the job is never stranded if that worker has died)."""
    current = ctx.jobs.get(job_id)
    if current is not None and current.claim_is_live(epoch()):
        raise WorkDeferred((current.claim_expires or 0) - epoch() + 1, "another worker holds the job")
    logger.info("not claimed: duplicate, late or finished delivery", extra={"status": current and current.status})


def _complete(job: JobRecord, outcome: JobOutcome, ctx: SynthesisContext) -> None:
    """The conditional completion only the claiming worker can make."""
    changes = {**outcome.model_dump(mode="json"), "progress": 100, "progress_message": "completed"}
    finished = ctx.jobs.finish(job.job_id, ctx.worker_id, JobStatus.COMPLETED, changes)
    if finished is None:  # cancelled during the upload
        _discard_outputs(job, ctx)
        return
    logger.info("job completed", extra={"duration": outcome.duration_seconds, "rtf": outcome.engine.rtf})


@dataclass(frozen=True)
class SpokenBlock:
    """One block as the engine spoke it, before post-processing."""

    result: SynthesisResult
    voice_id: str
    engine_seconds: float


@dataclass(frozen=True)
class Spoken:
    """A job's blocks as the engine spoke them, and what marks its output."""

    blocks: list[SpokenBlock]
    marker: Watermarker | None


def _speak(job: JobRecord, ctx: SynthesisContext, report: ProgressReporter) -> Spoken:
    """Every block through the engine; a streaming job's chunks go out as the engine makes
    them, and its stream ends here."""
    report(1, "preparing the voice", force=True)
    marker = _watermarker(ctx)
    stream = ChunkWriter(job, ctx.jobs, ctx.store, ctx.worker_id, marker) if job.config.stream else None
    blocks: list[SpokenBlock] = []
    for index, block in enumerate(job.blocks):
        blocks.append(_speak_block(job, index, ctx, report, stream))
        if stream:
            stream.pause(silence(block.wait_after_ms, job.sample_rate))
    if stream:
        stream.end()
    return Spoken(blocks, marker)


def _render(job: JobRecord, spoken: Spoken, ctx: SynthesisContext, report: ProgressReporter) -> JobOutcome:
    """Every block's file, then the combined file with each block's pause after it."""
    rate, fmt = job.sample_rate, job.output_format
    pauses = [silence(block.wait_after_ms, rate) for block in job.blocks]  # the last block's too, as asked
    blocks = [_render_block(job, index, block, ctx, report, spoken.marker) for index, block in enumerate(spoken.blocks)]
    segments: list[np.ndarray] = []
    words: list[WordTiming] = []
    offset = 0.0
    for block, pause in zip(blocks, pauses, strict=True):
        words += [WordTiming(w.word, w.start_time + offset, w.end_time + offset, w.estimated) for w in block.words]
        segments += [block.audio, pause]
        offset += (len(block.audio) + len(pause)) / rate
    combined = concatenate(segments)
    report(96, "uploading", force=True)
    key = output_key(job.user_id, job.job_id, fmt, job.attempts)
    ctx.store.put(key, encode(combined, rate, fmt, rate), CONTENT_TYPES[fmt])
    duration = round(len(combined) / rate, 3)
    engine_seconds = round(sum(b.engine_seconds for b in blocks), 3)
    own_voice = [b.audio for b in blocks if b.in_job_voice]
    inline_timestamps, stored_timestamps = _keep_timestamps(job, words, ctx)
    return JobOutcome(
        output_key=key,
        block_keys=[b.key for b in blocks],
        duration_seconds=duration,
        timestamps=inline_timestamps,
        timestamps_key=stored_timestamps,
        speaker_similarity=_speaker_similarity(own_voice, rate, job.voice_model_id, ctx),
        engine=blocks[-1].engine.model_copy(
            update={"engine_seconds": engine_seconds, "rtf": round(engine_seconds / max(duration, 1e-6), 3)}
        ),
        watermark=spoken.marker.watermark if spoken.marker else None,
    )


def _watermarker(ctx: SynthesisContext) -> Watermarker | None:
    """What marks this job's output: the watermarker, unless an administrator turned marking off."""
    if outputs_marked():
        return ctx.watermarker
    logger.warning("output not watermarked: an administrator turned watermarking off")
    return None


def _keep_timestamps(
    job: JobRecord, words: list[WordTiming], ctx: SynthesisContext
) -> tuple[dict[str, Any] | None, str | None]:
    """The job's timestamps in its item, or (when too large for DynamoDB's item limit, as
    20,000 characters with both granularities are) in S3 beside its audio: (inline, key)."""
    if not job.config.include_timestamps:
        return None, None
    spans = timestamps(words, job.config.timestamp_granularity)
    body = json.dumps(spans, separators=(",", ":")).encode()
    if len(body) <= INLINE_TIMESTAMPS_BYTES:
        return spans, None
    key = timestamps_key(job.user_id, job.job_id, job.attempts)
    ctx.store.put(key, body, CONTENT_TYPES["json"])
    return None, key


def _block_share(index: int, count: int) -> tuple[float, float]:
    """Where a block's progress starts, and its share: 5% before the first block, 90% shared
    equally among the blocks, in order (what `blocks_done` reads back)."""
    share = 90 / count
    return 5 + index * share, share


def _speak_block(
    job: JobRecord, index: int, ctx: SynthesisContext, report: ProgressReporter, stream: ChunkWriter | None
) -> SpokenBlock:
    """One block through the engine (a streaming job's chunks go out as it makes them)."""
    count = len(job.blocks)
    voice_id, request = _block_request(job, index)
    base, share = _block_share(index, count)

    def engine_progress(fraction: float, message: str) -> None:
        report(base + fraction * share * 0.8, f"block {index + 1}/{count}: {message}")

    reference = ctx.references.get(voice_id, job.user_id)
    tick = time.monotonic()
    result = ctx.engine.synthesize(
        reference,
        request,
        progress=engine_progress,
        should_cancel=report.cancelled,
        on_chunk=stream.speech if stream else None,
    )
    return SpokenBlock(result, voice_id, time.monotonic() - tick)


def _block_request(job: JobRecord, index: int) -> tuple[str, SynthesisRequest]:
    """A block's voice and what its engine is asked to say."""
    block = job.blocks[index]
    voice_id = block.voice_model_id or job.voice_model_id
    if voice_id is None or block.text is None:  # resolved and present in every stored job
        raise EngineError(ErrorCode.VOICE_NOT_FOUND, "the job names no voice or no text")
    return voice_id, SynthesisRequest(text=block.text, language=job.text_language, speed=job.speed)


def _render_block(
    job: JobRecord,
    index: int,
    spoken: SpokenBlock,
    ctx: SynthesisContext,
    report: ProgressReporter,
    marker: Watermarker | None,
) -> RenderedBlock:
    """One spoken block through post-processing, the watermark (last, on the samples as
    they will be encoded: the combined file is these blocks joined) and its own file."""
    result = spoken.result
    base, share = _block_share(index, len(job.blocks))
    report(base + share * 0.85, f"block {index + 1}/{len(job.blocks)}: encoding", force=True)
    audio = postprocess(result.audio, result.sample_rate, pitch_semitones=job.pitch_semitones, volume=job.volume)
    audio = resample(audio, result.sample_rate, job.sample_rate)
    if marker:
        audio = marker.mark(audio, job.sample_rate)
    key = block_key(job.user_id, job.job_id, index, job.output_format, job.attempts)
    ctx.store.put(
        key, encode(audio, job.sample_rate, job.output_format, job.sample_rate), CONTENT_TYPES[job.output_format]
    )
    engine = EngineRun(
        name=result.engine, model=result.model, version=result.version, batched_with=_batched_with(result)
    )
    words = result.words
    if job.config.include_timestamps:  # measured where the engine only estimated
        words = align_words(result.audio, result.sample_rate, words, job.text_language)
    return RenderedBlock(audio, key, list(words), spoken.voice_id == job.voice_model_id, spoken.engine_seconds, engine)


def _batched_with(result: SynthesisResult) -> int:
    batched_with = result.extra.get("batched_with", 1)
    return batched_with if isinstance(batched_with, int) else 1


def _speaker_similarity(
    parts: list[np.ndarray], rate: int, clone_id: str | None, ctx: SynthesisContext
) -> float | None:
    """How much the output sounds like its clone; a failure here never fails the job."""
    if ctx.voices is None or not parts or clone_id is None:
        return None
    try:
        return speaker_similarity(concatenate(parts), rate, clone_id, ctx.voices)
    except Exception:
        logger.exception("speaker similarity not measured")
        return None


def _fail(job: JobRecord, ctx: SynthesisContext, code: ErrorCode, message: str) -> None:
    logger.warning("job failed permanently", extra={"error_code": code.value})
    _discard_outputs(job, ctx)
    ctx.jobs.finish(job.job_id, ctx.worker_id, JobStatus.FAILED, {"error_code": code.value, "error_message": message})


def _discard_outputs(job: JobRecord, ctx: SynthesisContext) -> None:
    ctx.store.delete_prefix(attempt_prefix(job.user_id, job.job_id, job.attempts))
