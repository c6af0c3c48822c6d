"""`process_sample`: an uploaded file becomes a usable voice sample, or a rejected one.

Decodes by content (in a memory-capped child process, at most `max_sample_seconds` of audio),
mixes to mono, measures its quality (audio/quality.py) and refuses what cannot make a voice,
with reasons; otherwise stores a loudness-normalised 24 kHz copy, the reference segment (up
to 12 s, ending at a quiet point) that clones speak from, and the sample's speaker embedding
in the voice index.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from voxify.domain.voices import SampleRecord, SampleStatus
from voxify.errors import ErrorCode
from voxify.observability import logger
from voxify.queue import WorkMessage, upload_key
from voxify.settings import get_settings
from voxify.storage import CONTENT_TYPES, sample_prefix
from voxify_worker.audio import AudioError, decode_isolated, encode, normalize_loudness, resample
from voxify_worker.audio.quality import measure, rejection_reasons
from voxify_worker.runtime.consumer import Delivery
from voxify_worker.work.voice_context import VoiceContext

WORKING_RATE = 24_000
REFERENCE_MAX_SECONDS = 12.0


def process_sample(work: WorkMessage, delivery: Delivery, ctx: VoiceContext) -> None:
    logger.thread_safe_append_keys(sample_id=work.id)
    sample = _claim(work, ctx)
    if sample is None:
        return
    try:
        data = _original_bytes(sample, ctx)
        # a child process with capped memory: an upload is anyone's bytes (audio/isolation.py)
        audio, rate = decode_isolated(data, get_settings().max_sample_seconds)
    except AudioError as error:
        _reject(ctx, work.id, [error.code.value, str(error)])
        return
    quality = measure(audio, rate)
    reasons = rejection_reasons(quality)
    if reasons:
        _reject(ctx, work.id, reasons, quality.as_record())
        return
    normalized_key, reference_key = _store_working_copies(sample, audio, rate, ctx)
    changes = {
        "status": SampleStatus.READY.value,
        "duration_seconds": quality.duration_seconds,
        "quality": quality.as_record(),
        "embedding_model": ctx.encoder.model,
        "sha256": hashlib.sha256(data).hexdigest(),  # what the clone's consent record names
        "normalized_key": normalized_key,
        "reference_key": reference_key,
        "rejection_reasons": [],
    }
    ctx.events.announce(ctx.samples.update(work.id, changes))
    logger.info("sample ready", extra={"quality_score": quality.score})


def _claim(work: WorkMessage, ctx: VoiceContext) -> SampleRecord | None:
    """The sample, moved to `processing`; None when there is nothing (more) to do."""
    sample = ctx.samples.get(work.id)
    if sample is None or (work.user_id and sample.user_id != work.user_id):
        logger.info("sample gone or not this user's; nothing to do")
        return None
    if sample.status in (SampleStatus.READY, SampleStatus.REJECTED) and work.user_id is None:
        return None
    claimed = ctx.samples.update(
        work.id,
        {"status": SampleStatus.PROCESSING.value},
        expected_status=[SampleStatus.UPLOADING, SampleStatus.UPLOADED, SampleStatus.PROCESSING],
    )
    ctx.events.announce(claimed)
    return sample if claimed else None


def _store_working_copies(sample: SampleRecord, audio: np.ndarray, rate: int, ctx: VoiceContext) -> tuple[str, str]:
    """Loudness-normalised mono at the working rate, the engines' reference cut from it, and
    the speaker embedding; returns the keys of the two files."""
    prefix = sample_prefix(sample.user_id, sample.sample_id)
    normalized = normalize_loudness(resample(audio, rate, WORKING_RATE), WORKING_RATE)
    copies = {"normalized.wav": normalized, "reference.wav": reference_segment(normalized, WORKING_RATE)}
    for name, samples in copies.items():
        ctx.store.put(prefix + name, encode(samples, WORKING_RATE, "wav", WORKING_RATE), CONTENT_TYPES["wav"])
    vector = ctx.encoder.embed(normalized, WORKING_RATE)
    ctx.index.upsert(sample.sample_id, sample.user_id, "sample", sample.name, ctx.encoder.model, vector)
    return prefix + "normalized.wav", prefix + "reference.wav"


def _original_bytes(sample: SampleRecord, ctx: VoiceContext) -> bytes:
    """The uploaded bytes; a presigned upload is moved under the sample's own prefix first."""
    key = sample.original_key
    if key == upload_key(sample.user_id, sample.sample_id):
        size = ctx.store.size(key)
        if size is None:
            raise AudioError(ErrorCode.UNSUPPORTED_AUDIO, "the upload never arrived")
        if size > get_settings().max_sample_bytes:
            ctx.store.delete_prefix(key)
            raise AudioError(ErrorCode.UNSUPPORTED_AUDIO, "the upload is larger than samples may be")
        data = ctx.store.get(key)
        moved = f"{sample_prefix(sample.user_id, sample.sample_id)}original"
        ctx.store.put(moved, data, "application/octet-stream")
        ctx.store.delete_prefix(key)
        ctx.samples.update(sample.sample_id, {"original_key": moved, "size_bytes": len(data)})
        return data
    return ctx.store.get(key)


def reference_segment(audio: np.ndarray, rate: int) -> np.ndarray:
    """At most 12 s, cut at the quietest 50 ms frame of the last 3 s so no word is split."""
    limit = int(REFERENCE_MAX_SECONDS * rate)
    if len(audio) <= limit:
        return audio
    frame = rate // 20
    search_from = limit - 3 * rate
    energies = [float(np.mean(audio[i : i + frame] ** 2)) for i in range(search_from, limit - frame, frame)]
    cut = search_from + frame * int(np.argmin(energies)) + frame // 2
    return audio[:cut]


def _reject(ctx: VoiceContext, sample_id: str, reasons: list[str], quality: dict[str, Any] | None = None) -> None:
    logger.info("sample rejected", extra={"reasons": reasons})
    ctx.events.announce(
        ctx.samples.update(
            sample_id, {"status": SampleStatus.REJECTED.value, "rejection_reasons": reasons, "quality": quality}
        )
    )
