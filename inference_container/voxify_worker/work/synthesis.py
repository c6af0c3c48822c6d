"""`synthesize_job`: one synthesis job from claim to completed audio in S3.

Claim (conditional pending -> processing), then per block: reference voice, engine,
post-processing, per-block file; then the combined file, and a conditional completion that
only the claiming worker can make. Cancellation is noticed at every progress report (the
conditional write fails once the job is no longer ours). Permanent errors (bad voice,
unsupported language) fail the job at once; anything else hands the job back to `pending`
with its last error and lets the queue redeliver (after maxReceiveCount the DLQ function
fails it with that error).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from voxify.domain.jobs import JobRecord, JobStatus
from voxify.errors import CodedError, ErrorCode, not_found
from voxify.events import EventPublisher
from voxify.observability import logger
from voxify.queue import WorkMessage
from voxify.repositories.jobs import JobRepository
from voxify.settings import get_settings
from voxify.storage import CONTENT_TYPES, AudioStore, block_key, output_key, output_prefix
from voxify_worker.audio import check_output, concatenate, encode, postprocess, resample, silence
from voxify_worker.engines.base import Engine, EngineError, SynthesisCancelled, SynthesisRequest, WordTiming
from voxify_worker.runtime.consumer import Delivery
from voxify_worker.runtime.lease import Lease
from voxify_worker.work.references import ReferenceCache
from voxify_worker.work.timestamps import timestamps
from voxify_worker.work.voice_context import VoiceContext, speaker_similarity

PROGRESS_MIN_INTERVAL_SECONDS = 1.0


class JobAbandoned(Exception):
    """The job stopped being ours (cancelled by its user, or taken over after a stall)."""


@dataclass
class SynthesisContext:
    engine: Engine
    jobs: JobRepository
    store: AudioStore
    references: ReferenceCache
    events: EventPublisher
    worker_id: str
    # scores each output against its voice; None leaves `speaker_similarity` unset
    voices: VoiceContext | None = None


class ProgressReporter:
    """Throttled progress writes; each doubles as the cancellation check."""

    def __init__(self, ctx: SynthesisContext, job_id: str) -> None:
        self._ctx, self._job_id = ctx, job_id
        self._last = 0.0

    def cancelled(self) -> bool:
        """Asked by engines between text chunks: is the job still ours to finish?"""
        job = self._ctx.jobs.get(self._job_id)
        return job is None or job.status != JobStatus.PROCESSING or job.claim_owner != self._ctx.worker_id

    def __call__(self, percent: float, message: str, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < PROGRESS_MIN_INTERVAL_SECONDS:
            return
        self._last = now
        if not self._ctx.jobs.report_progress(
            self._job_id, self._ctx.worker_id, int(max(0, min(99, percent))), message
        ):
            raise JobAbandoned(self._job_id)


def synthesize_job(work: WorkMessage, delivery: Delivery, ctx: SynthesisContext) -> None:
    """Run one job; returns normally when the message can be deleted."""
    logger.append_keys(job_id=work.id)
    job = ctx.jobs.claim(work.id, ctx.worker_id, get_settings().worker_lease_seconds)
    if job is None:
        current = ctx.jobs.get(work.id)
        logger.info("not claimed: duplicate, late or finished delivery", extra={"status": current and current.status})
        return
    ctx.events.job_changed(job)
    report = ProgressReporter(ctx, job.job_id)
    started = time.monotonic()
    try:
        check_output(job.output_format, job.sample_rate)
        with Lease(delivery, ctx.jobs, job.job_id, ctx.worker_id):
            outcome = _render(job, ctx, report)
    except (JobAbandoned, SynthesisCancelled):
        _discard_outputs(job, ctx)
        logger.info("job abandoned: cancelled or taken over")
        return
    except CodedError as error:  # engine and audio errors: bad voice, language, format...
        _fail(job, ctx, error.code, str(error))
        return
    except Exception as error:
        ctx.jobs.finish(
            job.job_id, ctx.worker_id, JobStatus.PENDING, {"last_error": f"{type(error).__name__}: {error}"}
        )
        raise
    elapsed = time.monotonic() - started
    outcome["engine"]["rtf"] = round(outcome["engine"]["engine_seconds"] / max(outcome["duration_seconds"], 1e-6), 3)
    outcome["engine"]["wall_seconds"] = round(elapsed, 3)
    finished = ctx.jobs.finish(
        job.job_id, ctx.worker_id, JobStatus.COMPLETED, {**outcome, "progress": 100, "progress_message": "completed"}
    )
    if finished is None:  # cancelled during the upload
        _discard_outputs(job, ctx)
        return
    ctx.events.job_changed(finished)
    logger.info("job completed", extra={"duration": outcome["duration_seconds"], "rtf": outcome["engine"]["rtf"]})


def _render(job: JobRecord, ctx: SynthesisContext, report: ProgressReporter) -> dict[str, Any]:
    rate, fmt = job.sample_rate, job.output_format
    blocks = job.blocks
    segments: list[np.ndarray] = []
    own_voice: list[np.ndarray] = []  # blocks spoken in the job's own voice, for speaker_similarity
    words: list[WordTiming] = []
    block_keys: list[str] = []
    offset = 0.0
    engine_seconds = 0.0
    result = None
    report(1, "preparing the voice", force=True)
    for index, block in enumerate(blocks):
        voice_id = block.voice_model_id or job.voice_model_id
        if voice_id is None:  # stored jobs have their voice resolved; fail as looking up clone None did
            raise EngineError(ErrorCode.VOICE_NOT_FOUND, str(not_found("voice clone None")))
        reference = ctx.references.get(voice_id, job.user_id)
        share = 90 / len(blocks)
        base = 5 + index * share

        def engine_progress(
            fraction: float, message: str, base: float = base, share: float = share, number: int = index + 1
        ) -> None:
            report(base + fraction * share * 0.8, f"block {number}/{len(blocks)}: {message}")

        # stored jobs always carry their text (only listings blank it)
        assert block.text is not None
        tick = time.monotonic()
        result = ctx.engine.synthesize(
            reference,
            SynthesisRequest(text=block.text, language=job.text_language, speed=job.speed),
            progress=engine_progress,
            should_cancel=report.cancelled,
        )
        engine_seconds += time.monotonic() - tick
        report(base + share * 0.85, f"block {index + 1}/{len(blocks)}: encoding", force=True)
        audio = postprocess(result.audio, result.sample_rate, pitch_semitones=job.pitch, volume=job.volume)
        audio = resample(audio, result.sample_rate, rate)
        key = block_key(job.user_id, job.job_id, index, fmt)
        ctx.store.put(key, encode(audio, rate, fmt, rate), CONTENT_TYPES[fmt])
        block_keys.append(key)
        words += [WordTiming(w.word, w.start_time + offset, w.end_time + offset, w.estimated) for w in result.words]
        pause = silence(block.wait_after_ms, rate) if index < len(blocks) - 1 else silence(0, rate)
        segments += [audio, pause]
        if voice_id == job.voice_model_id:
            own_voice.append(audio)
        offset += (len(audio) + len(pause)) / rate
    combined = concatenate(segments)
    report(96, "uploading", force=True)
    key = output_key(job.user_id, job.job_id, fmt)
    ctx.store.put(key, encode(combined, rate, fmt, rate), CONTENT_TYPES[fmt])
    assert result is not None
    return {
        "output_key": key,
        "block_keys": block_keys,
        "duration_seconds": round(len(combined) / rate, 3),
        "timestamps": timestamps(words, job.config.timestamp_granularity) if job.config.include_timestamps else None,
        "speaker_similarity": _speaker_similarity(own_voice, rate, job.voice_model_id, ctx),
        "engine": {
            "name": result.engine,
            "model": result.model,
            "version": result.version,
            "engine_seconds": round(engine_seconds, 3),
        },
    }


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
    failed = ctx.jobs.finish(
        job.job_id, ctx.worker_id, JobStatus.FAILED, {"error_code": code.value, "error_message": message}
    )
    if failed:
        ctx.events.job_changed(failed)


def _discard_outputs(job: JobRecord, ctx: SynthesisContext) -> None:
    ctx.store.delete_prefix(output_prefix(job.user_id, job.job_id))
