"""The one interface every speech engine implements.

Given a reference voice (audio + its transcript) and text, an engine returns mono float32
samples in [-1, 1], their sample rate and word timings. Post-processing (loudness, pitch,
volume, resampling, encoding) is not the engine's job: it happens once, for every engine,
in the worker's audio pipeline.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from voxify.errors import CodedError, ErrorCode

# progress(fraction 0..1 of the engine's own work, human-readable message)
ProgressCallback = Callable[[float, str], None]
# returns True when the job was cancelled; engines check it between text chunks
CancelCheck = Callable[[], bool]
# on_chunk(samples, sample_rate): audio the engine will not change any more, handed over as
# soon as it is made (a sentence, or an F5 batch up to its cross-fade) so that it can be sent
# while later sentences are still being synthesised. The chunks, joined in order, are the
# result's audio (before any level change an engine applies to the whole of it).
ChunkCallback = Callable[[np.ndarray, int], None]


class EngineError(CodedError):
    """A synthesis failure that retrying will not fix (bad voice, unsupported language);
    `code` is an ErrorCode (EMPTY_TEXT, INVALID_SPEED, INVALID_REFERENCE, MODEL_UNAVAILABLE,
    UNSUPPORTED_LANGUAGE, VOICE_NOT_FOUND)."""


def has_words(text: str) -> bool:
    """Whether the text holds anything speakable (a letter or a digit)."""
    return any(char.isalnum() for char in text)


def require_words(text: str) -> None:
    """EMPTY_TEXT for text with nothing to speak, before any engine work starts."""
    if not has_words(text):
        raise EngineError(ErrorCode.EMPTY_TEXT, "the text has nothing to speak")


_SENTENCE_END = re.compile(r"(?<=[.!?;:。！？；])\s+|\n+|(?<=[。！？])")
_MAX_SENTENCE_CHARS = 400
_SOUNDING_FRACTION = 0.02  # of the peak: quieter 10 ms frames are pauses, not words


def sentences(text: str) -> Iterator[str]:
    """Sentences (split after end punctuation or at line breaks), long ones cut at spaces:
    the unit engines synthesise, report progress and check for cancellation by."""
    for sentence in _SENTENCE_END.split(text):
        sentence = sentence.strip()
        while len(sentence) > _MAX_SENTENCE_CHARS:
            cut = sentence.rfind(" ", 0, _MAX_SENTENCE_CHARS)
            cut = cut if cut > 0 else _MAX_SENTENCE_CHARS
            yield sentence[:cut]
            sentence = sentence[cut:].strip()
        if has_words(sentence):
            yield sentence


def strip_punctuation(token: str) -> str:
    """A written word without the punctuation around it ('"Yes!"' -> 'Yes')."""
    chars = list(token.strip())
    while chars and unicodedata.category(chars[-1]).startswith("P"):
        chars.pop()
    while chars and unicodedata.category(chars[0]).startswith("P"):
        chars.pop(0)
    return "".join(chars)


def spoken_words(text: str) -> list[str]:
    """The words of a text as timings name them: whitespace-separated, punctuation stripped."""
    return [word for word in map(strip_punctuation, text.split()) if word]


def spread_words(text: str, samples: np.ndarray, rate: int, offset: float = 0.0) -> list[WordTiming]:
    """Estimated timings for an engine that reports none: the text's words spread over the
    sounding part of `samples` by their length in characters (a one-character gap between
    words), `offset` seconds added; every timing is marked estimated."""
    words = spoken_words(text)
    frame = max(1, rate // 100)
    energy = np.sqrt(np.mean(samples[: len(samples) // frame * frame].reshape(-1, frame) ** 2, axis=1))
    sounding = np.nonzero(energy > _SOUNDING_FRACTION * max(float(np.abs(samples).max(initial=0.0)), 1e-9))[0]
    begin, end = (
        (sounding[0] * frame / rate, (sounding[-1] + 1) * frame / rate) if sounding.size else (0.0, len(samples) / rate)
    )
    step = (end - begin) / max(1, sum(len(w) + 1 for w in words) - 1)
    timings, cursor = [], begin
    for word in words:
        timings.append(WordTiming(word, offset + cursor, offset + cursor + len(word) * step, estimated=True))
        cursor += (len(word) + 1) * step
    return timings


class SynthesisCancelled(Exception):
    """Raised by an engine when `should_cancel` answered True between chunks."""


@dataclass(frozen=True)
class ReferenceVoice:
    voice_id: str  # cache key for prepared reference audio
    audio: np.ndarray  # float32 mono
    sample_rate: int
    transcript: str
    language: str = "en"


@dataclass(frozen=True)
class SynthesisRequest:
    text: str
    language: str = "en"
    speed: float = 1.0  # 0.5 .. 2.0; engines honour it natively


@dataclass(frozen=True)
class WordTiming:
    word: str
    start_time: float  # seconds from the start of the returned audio
    end_time: float
    estimated: bool = False  # True when not from engine events


@dataclass
class SynthesisResult:
    audio: np.ndarray  # float32 mono in [-1, 1]
    sample_rate: int
    words: list[WordTiming]
    engine: str
    model: str
    version: str
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def duration(self) -> float:
        return len(self.audio) / self.sample_rate


class Engine(Protocol):
    name: str
    model: str
    version: str

    def synthesize(
        self,
        reference: ReferenceVoice,
        request: SynthesisRequest,
        progress: ProgressCallback | None = None,
        should_cancel: CancelCheck | None = None,
        on_chunk: ChunkCallback | None = None,
    ) -> SynthesisResult: ...


@runtime_checkable
class BatchingEngine(Engine, Protocol):
    """An engine that can speak several independent requests in one pass (F5 on a GPU):
    one entry per request, in order, its result or the EngineError that fails it alone."""

    def synthesize_many(
        self, jobs: Sequence[tuple[ReferenceVoice, SynthesisRequest]], *, max_items: int = 16
    ) -> list[SynthesisResult | EngineError]: ...
