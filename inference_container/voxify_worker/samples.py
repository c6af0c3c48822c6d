"""`process_sample`: an uploaded file becomes a usable voice sample, or a rejected one.

Decodes by content, mixes to mono, checks it is speech-like enough to clone from (long
enough, not silent, not too long), and stores a loudness-normalised 24 kHz copy plus the
reference segment (up to 12 s, ending at a quiet point) that clones speak from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from voxify.domain.voices import SampleStatus
from voxify.observability import logger
from voxify.queue import WorkMessage, upload_key
from voxify.repositories.voices import SampleRepository
from voxify.settings import get_settings
from voxify.storage import CONTENT_TYPES, AudioStore, sample_prefix
from voxify_worker.audio import AudioError, decode, encode, normalize_loudness, resample
from voxify_worker.consumer import Delivery

WORKING_RATE = 24_000
MIN_SECONDS = 1.0
MAX_SECONDS = 300.0
REFERENCE_MAX_SECONDS = 12.0
SILENCE_RMS = 1e-3


@dataclass
class SampleContext:
    samples: SampleRepository
    store: AudioStore


def process_sample(work: WorkMessage, delivery: Delivery, ctx: SampleContext) -> None:
    logger.append_keys(sample_id=work.id)
    sample = ctx.samples.get(work.id)
    if sample is None or (work.user_id and sample["user_id"] != work.user_id):
        logger.info("sample gone or not this user's; nothing to do")
        return
    if sample["status"] in (SampleStatus.READY, SampleStatus.REJECTED) and work.user_id is None:
        return
    claimed = ctx.samples.update(work.id, {"status": SampleStatus.PROCESSING.value},
                                 expected_status=[SampleStatus.UPLOADING.value, SampleStatus.UPLOADED.value,
                                                  SampleStatus.PROCESSING.value])
    if claimed is None:
        return
    try:
        data = _original_bytes(sample, ctx)
        audio, rate = decode(data)
    except AudioError as error:
        _reject(ctx, work.id, [error.code, str(error)])
        return
    mono = resample(audio, rate, WORKING_RATE)
    reasons = problems(mono, WORKING_RATE)
    if reasons:
        _reject(ctx, work.id, reasons)
        return
    prefix = sample_prefix(sample["user_id"], sample["sample_id"])
    normalized = normalize_loudness(mono, WORKING_RATE)
    reference = reference_segment(normalized, WORKING_RATE)
    ctx.store.put(prefix + "normalized.wav", encode(normalized, WORKING_RATE, "wav", WORKING_RATE), CONTENT_TYPES["wav"])
    ctx.store.put(prefix + "reference.wav", encode(reference, WORKING_RATE, "wav", WORKING_RATE), CONTENT_TYPES["wav"])
    ctx.samples.update(work.id, {
        "status": SampleStatus.READY.value, "duration_seconds": round(len(mono) / WORKING_RATE, 3),
        "normalized_key": prefix + "normalized.wav", "reference_key": prefix + "reference.wav",
        "rejection_reasons": [], "source_sample_rate": rate})
    logger.info("sample ready")


def _original_bytes(sample: dict[str, Any], ctx: SampleContext) -> bytes:
    """The uploaded bytes; a presigned upload is moved under the sample's own prefix first."""
    key = sample["original_key"]
    if key == upload_key(sample["user_id"], sample["sample_id"]):
        head = ctx.store.head(key)
        if head is None:
            raise AudioError("UNSUPPORTED_AUDIO", "the upload never arrived")
        if head["ContentLength"] > get_settings().max_sample_bytes:
            ctx.store.delete_prefix(key)
            raise AudioError("UNSUPPORTED_AUDIO", "the upload is larger than samples may be")
        data = ctx.store.get(key)
        moved = f"{sample_prefix(sample['user_id'], sample['sample_id'])}original"
        ctx.store.put(moved, data, "application/octet-stream")
        ctx.store.delete_prefix(key)
        ctx.samples.update(sample["sample_id"], {"original_key": moved, "size_bytes": len(data)})
        return data
    return ctx.store.get(key)


def problems(audio: np.ndarray, rate: int) -> list[str]:
    """Human-readable reasons this audio cannot make a voice; empty when it can."""
    seconds = len(audio) / rate
    if seconds < MIN_SECONDS:
        return [f"too short: {seconds:.2f} s, at least {MIN_SECONDS:.0f} s of speech is needed"]
    if seconds > MAX_SECONDS:
        return [f"too long: {seconds:.0f} s, at most {MAX_SECONDS:.0f} s"]
    if float(np.sqrt(np.mean(audio.astype(np.float64) ** 2))) < SILENCE_RMS:
        return ["silence: no audible signal"]
    return []


def reference_segment(audio: np.ndarray, rate: int) -> np.ndarray:
    """At most 12 s, cut at the quietest 50 ms frame of the last 3 s so no word is split."""
    limit = int(REFERENCE_MAX_SECONDS * rate)
    if len(audio) <= limit:
        return audio
    frame = rate // 20
    search_from = limit - 3 * rate
    energies = [float(np.mean(audio[i:i + frame] ** 2)) for i in range(search_from, limit - frame, frame)]
    cut = search_from + frame * int(np.argmin(energies)) + frame // 2
    return audio[:cut]


def _reject(ctx: SampleContext, sample_id: str, reasons: list[str]) -> None:
    logger.info("sample rejected", extra={"reasons": reasons})
    ctx.samples.update(sample_id, {"status": SampleStatus.REJECTED.value, "rejection_reasons": reasons})
