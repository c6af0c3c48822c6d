"""`verify_voice`: does a recording say the challenge phrase, in the clone's own voice?

Three measurements, then one rule (`judge`):
- what was said: PocketSphinx recognises the recording with its bundled US English acoustic
  and language models (work/alignment.py), and the words heard are compared with the phrase
  by word error rate. Recognition rather than forced alignment: an aligner fits the phrase to
  any audio it is given and its score says little on its own, while a transcript of the wrong
  words is far from the phrase. Measured on the f5-tts example recording read against its own
  transcript: WER 0.11 (one word of nine misheard); against other phrases: at or near 1.0.
  The phrase is English whatever the clone's language (the only recogniser bundled); the
  speaker check does not depend on the language.
- who said it: the recording's speaker embedding against the clone's voice (the mean of its
  samples'), passing at the impersonation guard's threshold, never below
  `SAME_SPEAKER_SIMILARITY` (an operator's laxer guard does not make verification laxer).
- how it was made: a recording carrying Voxify's own watermark is speech Voxify synthesised,
  so it proves nothing about who is speaking.

A pass marks the clone `verified` (with its evidence) before the verification is answered, so
a redelivered message after a crash only repeats the same result. The answer is announced
("Voice Verification State Change") by the write that records it, so once. The recording is
deleted once answered (the bucket expires strays under verifications/ after a day).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from voxify.clock import now_iso
from voxify.domain.verification import VerificationRecord, VerificationStatus
from voxify.domain.voices import VerificationEvidence
from voxify.errors import CodedError, ErrorCode
from voxify.observability import logger
from voxify.queue import WorkMessage
from voxify.repositories.verification import VerificationRepository
from voxify.settings import get_settings
from voxify_worker.audio import AudioError, decode_isolated
from voxify_worker.audio.watermark import Watermarker
from voxify_worker.embeddings.encoder import SAME_SPEAKER_SIMILARITY, similarity
from voxify_worker.runtime.consumer import Delivery
from voxify_worker.work.alignment import transcribe
from voxify_worker.work.voice_context import VoiceContext, VoiceGone, clone_embedding

# Share of the phrase's words that may be misheard, dropped or added: room for the
# recogniser's own errors (0.11 on clean read speech) and an accent, far from another phrase.
MAX_WORD_ERROR_RATE = 0.4
_WORD = re.compile(r"[a-z']+")


@dataclass
class VerificationContext:
    verifications: VerificationRepository
    voices: VoiceContext
    watermarker: Watermarker


@dataclass(frozen=True)
class Measured:
    """What the worker found in a recording."""

    heard: list[str]
    word_error_rate: float
    speaker_similarity: float
    watermarked: bool


def words(text: str) -> list[str]:
    """Lower-case words without punctuation, as the recogniser writes them."""
    return _WORD.findall(text.lower())


def word_error_rate(phrase: str, heard: list[str]) -> float:
    """Word-level edit distance (substitutions, deletions, insertions) from the phrase to what
    was heard, over the phrase's length."""
    expected, got = words(phrase), [w for word in heard for w in words(word)]
    previous = list(range(len(got) + 1))
    for i, word in enumerate(expected, 1):
        current = [i]
        for j, other in enumerate(got, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (word != other)))
        previous = current
    return previous[-1] / max(len(expected), 1)


def speaker_threshold() -> float:
    """The similarity a recording needs to count as the voice's speaker."""
    return max(get_settings().impersonation_threshold, SAME_SPEAKER_SIMILARITY)


def judge(measured: Measured, threshold: float) -> CodedError | None:
    """Why the recording does not verify the voice, or None when it does."""
    if measured.watermarked:
        return CodedError(ErrorCode.SYNTHETIC_RECORDING, "the recording carries Voxify's watermark: it was synthesised")
    if measured.word_error_rate > MAX_WORD_ERROR_RATE:
        return CodedError(ErrorCode.PHRASE_MISMATCH, "the recording does not say the phrase")
    if measured.speaker_similarity < threshold:
        return CodedError(ErrorCode.SPEAKER_MISMATCH, "the speaker does not sound like this voice")
    return None


def verify_voice(work: WorkMessage, delivery: Delivery, ctx: VerificationContext) -> None:
    logger.thread_safe_append_keys(clone_id=work.id)
    record = ctx.verifications.get(work.id)
    if record is None or record.status != VerificationStatus.PENDING or record.recording_key is None:
        return
    answer: dict[str, Any] = {"checked_at": now_iso()}
    try:
        data = ctx.voices.store.get(record.recording_key)
        measured = _measure(record, data, ctx)
    except (AudioError, VoiceGone) as error:
        answer |= {"status": VerificationStatus.FAILED.value, "error_code": error.code.value, "error": str(error)}
    else:
        threshold = speaker_threshold()
        refused = judge(measured, threshold)
        answer |= {
            "transcript": " ".join(measured.heard),
            "word_error_rate": round(measured.word_error_rate, 4),
            "speaker_similarity": round(measured.speaker_similarity, 4),
        }
        if refused is None:
            _mark_verified(record, measured, hashlib.sha256(data).hexdigest(), ctx)
            answer["status"] = VerificationStatus.VERIFIED.value
        else:
            answer |= {"status": VerificationStatus.FAILED.value, "error_code": refused.code.value}
            answer["error"] = refused.message
        logger.info("voice verification checked", extra={**answer, "speaker_threshold": threshold})
    finished = ctx.verifications.finish(work.id, answer)
    if finished is not None:  # None: a duplicate delivery answered it already, and announced it
        ctx.voices.events.verification_changed(finished)
    ctx.voices.store.delete_prefix(record.recording_key)


def _measure(record: VerificationRecord, data: bytes, ctx: VerificationContext) -> Measured:
    clone = ctx.voices.clones.get(record.clone_id)
    if clone is None:
        raise VoiceGone("the clone was deleted")
    # a child process with capped memory: the recording is anyone's bytes (audio/isolation.py)
    audio, rate = decode_isolated(data, get_settings().max_verification_clip_seconds)
    voice = ctx.voices.index.vector(clone.clone_id)
    if voice is None:
        voice = clone_embedding(clone, ctx.voices)
    heard = transcribe(audio, rate)
    return Measured(
        heard=heard,
        word_error_rate=word_error_rate(record.phrase, heard),
        speaker_similarity=similarity(ctx.voices.encoder.embed(audio, rate), voice),
        watermarked=ctx.watermarker.detect(audio, rate).marked,
    )


def _mark_verified(record: VerificationRecord, measured: Measured, digest: str, ctx: VerificationContext) -> None:
    evidence = VerificationEvidence(
        phrase=record.phrase,
        transcript=" ".join(measured.heard),
        word_error_rate=round(measured.word_error_rate, 4),
        speaker_similarity=round(measured.speaker_similarity, 4),
        recording_sha256=digest,
    )
    ctx.voices.clones.update(
        record.clone_id, {"verified": True, "verified_at": now_iso(), "verification": evidence.model_dump()}
    )
