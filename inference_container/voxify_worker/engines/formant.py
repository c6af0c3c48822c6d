"""The offline engine for every language the neural voice lacks: eSpeak NG speech, moved toward
the reference voice with WORLD.

What it is, honestly: a *voice-matched* formant synthesiser, not a neural clone. eSpeak NG
(the `espeakng-loader` wheel bundles the library and its data, so no weights and no network)
speaks the text and reports where each word starts. WORLD then re-voices that speech: the
pitch contour is mapped onto the reference speaker's pitch centre and spread, and the spectral
envelope is frequency-warped (a vocal-tract-length ratio) and filtered toward the reference's
long-term average envelope. The result keeps eSpeak's robotic articulation but takes on the
reference's pitch, register and broad timbre. WORLD works at a fixed frame period, so eSpeak's
word timings stay valid after conversion; they come from eSpeak's events (estimated=False),
except for the few short words eSpeak runs into their neighbour without an event of their own.
The eSpeak NG library itself (ctypes binding, voices, word events) is engines/espeak.py.
"""

from __future__ import annotations

import numpy as np
import pyworld

from voxify.cache import LruCache
from voxify.errors import ErrorCode

from ..audio.voice_match import CALIBRATION_TEXT, VoiceMatch, reference_profile, source_profile
from .base import (
    CancelCheck,
    ChunkCallback,
    EngineError,
    ProgressCallback,
    ReferenceVoice,
    SynthesisCancelled,
    SynthesisRequest,
    SynthesisResult,
    WordTiming,
    has_words,
    require_words,
    sentences,
)
from .espeak import ESpeak

_FEMALE_VARIANT = "+f2"  # eSpeak's cleanest higher voice, median f0 about 190 Hz
_HIGH_VOICE_HZ = 145.0  # about halfway (geometrically) between eSpeak's male and female voices
_CACHE_SIZE = 32


class FormantEngine:
    """eSpeak NG + WORLD voice matching. Thread-safe; eSpeak calls are serialised."""

    name = "formant"
    version = "1"

    def __init__(self) -> None:
        self._espeak = ESpeak.shared()
        self.model = f"espeak-ng-{self._espeak.version}+world-{pyworld.__version__}"
        self._prepared: LruCache[str, tuple[str, VoiceMatch]] = LruCache(_CACHE_SIZE)  # voice_id -> (variant, match)

    def synthesize(
        self,
        reference: ReferenceVoice,
        request: SynthesisRequest,
        progress: ProgressCallback | None = None,
        should_cancel: CancelCheck | None = None,
        on_chunk: ChunkCallback | None = None,
    ) -> SynthesisResult:
        require_words(request.text)
        language_voice = self._espeak.voice_for(request.language)
        variant, match = self._prepare(reference, language_voice)
        voice = language_voice + variant

        chunks = list(sentences(request.text))
        pieces: list[np.ndarray] = []
        words: list[WordTiming] = []
        offset = 0.0
        for i, chunk in enumerate(chunks):
            if should_cancel and should_cancel():
                raise SynthesisCancelled()
            speech = self._espeak.speak(chunk, voice, request.speed, end_pause=i < len(chunks) - 1)
            pieces.append(match.apply(speech.samples, speech.rate))
            if on_chunk:
                on_chunk(pieces[-1], speech.rate)
            words += [WordTiming(w.word, w.start_time + offset, w.end_time + offset, w.estimated) for w in speech.words]
            offset += len(speech.samples) / speech.rate
            if progress:
                progress((i + 1) / len(chunks), f"sentence {i + 1} of {len(chunks)}")
        audio = np.concatenate(pieces).astype(np.float32)
        peak = float(np.abs(audio).max(initial=0.0))
        if peak > 0.99:
            audio *= 0.99 / peak
        return SynthesisResult(
            audio=audio,
            sample_rate=self._espeak.rate,
            words=words,
            engine=self.name,
            model=self.model,
            version=self.version,
            extra={
                "espeak_voice": voice,
                "formant_warp": round(match.warp, 3),
                "reference_f0_hz": round(float(np.exp(match.target.log_f0_median)), 1),
            },
        )

    def _prepare(self, reference: ReferenceVoice, fallback_voice: str) -> tuple[str, VoiceMatch]:
        """Learn the reference once per voice_id: pick eSpeak's register (male or female
        variant) by its pitch, then plan the match against eSpeak saying the reference's own
        transcript, so both long-term spectra average over the same sounds."""
        return self._prepared.get_or_load(reference.voice_id, lambda: self._plan(reference, fallback_voice))

    def _plan(self, reference: ReferenceVoice, fallback_voice: str) -> tuple[str, VoiceMatch]:
        rate = self._espeak.rate
        target = reference_profile(reference.audio, reference.sample_rate, rate)
        if target is None:
            raise EngineError(
                ErrorCode.INVALID_REFERENCE, "the reference audio holds too little voiced speech to match"
            )
        variant = _FEMALE_VARIANT if np.exp(target.log_f0_median) > _HIGH_VOICE_HZ else ""
        try:
            voice = self._espeak.voice_for(reference.language)
        except EngineError:
            voice = fallback_voice
        text = reference.transcript if has_words(reference.transcript) else ""
        source = None
        if text:
            source = source_profile(self._espeak.speak(text, voice + variant).samples, rate)
        if source is None:  # no transcript, or too short to learn from
            source = source_profile(self._espeak.speak(CALIBRATION_TEXT, voice + variant).samples, rate)
        if source is None:
            raise RuntimeError(f"eSpeak voice {voice + variant!r} produced no voiced speech")
        return variant, VoiceMatch.plan(source, target, rate)
