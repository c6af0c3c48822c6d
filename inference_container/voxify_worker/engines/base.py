"""The one interface every speech engine implements.

Given a reference voice (audio + its transcript) and text, an engine returns mono float32
samples in [-1, 1], their sample rate and word timings. Post-processing (loudness, pitch,
volume, resampling, encoding) is not the engine's job: it happens once, for every engine,
in the worker's audio pipeline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from voxify.errors import CodedError, ErrorCode

# progress(fraction 0..1 of the engine's own work, human-readable message)
ProgressCallback = Callable[[float, str], None]
# returns True when the job was cancelled; engines check it between text chunks
CancelCheck = Callable[[], bool]


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
    ) -> SynthesisResult: ...
