"""The offline default engine: eSpeak NG speech, moved toward the reference voice with WORLD.

What it is, honestly: a *voice-matched* formant synthesiser, not a neural clone. eSpeak NG
(the `espeakng-loader` wheel bundles the library and its data, so no weights and no network)
speaks the text and reports where each word starts. WORLD then re-voices that speech: the
pitch contour is mapped onto the reference speaker's pitch centre and spread, and the spectral
envelope is frequency-warped (a vocal-tract-length ratio) and filtered toward the reference's
long-term average envelope. The result keeps eSpeak's robotic articulation but takes on the
reference's pitch, register and broad timbre. WORLD works at a fixed frame period, so eSpeak's
word timings stay valid after conversion; they are real engine events (estimated=False).
"""

from __future__ import annotations

import ctypes
import re
import threading
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

import espeakng_loader
import numpy as np
import pyworld
from scipy.ndimage import uniform_filter1d

from ..audio.process import resample
from ..audio.world import analyse, synthesise
from .base import (
    CancelCheck,
    EngineError,
    ProgressCallback,
    ReferenceVoice,
    SynthesisCancelled,
    SynthesisRequest,
    SynthesisResult,
    WordTiming,
)

# --- eSpeak NG through ctypes (speak_lib.h) ---------------------------------------------------

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000
_POS_CHARACTER = 1
_CHARS_UTF8, _ENDPAUSE = 0x1, 0x1000
_PARAM_RATE = 1
_EVENT_LIST_END, _EVENT_WORD, _EVENT_SENTENCE, _EVENT_END = 0, 1, 2, 5
_NORMAL_WPM, _MIN_WPM, _MAX_WPM = 175, 80, 450


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint),
                ("text_position", ctypes.c_int), ("length", ctypes.c_int),
                ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
                ("user_data", ctypes.c_void_p), ("id", _EventId)]


class _Voice(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("languages", ctypes.c_void_p),
                ("identifier", ctypes.c_char_p), ("gender", ctypes.c_ubyte),
                ("age", ctypes.c_ubyte), ("variant", ctypes.c_ubyte), ("xx1", ctypes.c_ubyte),
                ("score", ctypes.c_int), ("spare", ctypes.c_void_p)]


_SynthCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                                  ctypes.POINTER(_Event))

# where eSpeak's own default for a bare code is not what most users of that code expect
_PREFERRED = {"en": "en-us"}


@dataclass
class Speech:
    samples: np.ndarray  # float32 in [-1, 1]
    rate: int
    words: list[WordTiming]


class ESpeak:
    """The process-wide eSpeak NG library. Its C API is global state (one voice, one callback,
    one synthesis at a time), so there is one instance and every call holds its lock."""

    _instance: ESpeak | None = None
    _create_lock = threading.Lock()

    @classmethod
    def shared(cls) -> ESpeak:
        with cls._create_lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def __init__(self) -> None:
        self._lock = threading.Lock()
        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                     ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        lib.espeak_ListVoices.argtypes = [ctypes.c_void_p]
        lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_Voice))
        lib.espeak_Info.argtypes = [ctypes.c_void_p]
        lib.espeak_Info.restype = ctypes.c_char_p
        self.rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0,
                                          espeakng_loader.get_data_path().encode(),
                                          _INITIALIZE_DONT_EXIT)
        if self.rate <= 0:
            raise RuntimeError("eSpeak NG failed to initialise (data directory missing?)")
        self._callback = _SynthCallback(self._collect)  # kept referenced: C holds the pointer
        lib.espeak_SetSynthCallback(self._callback)
        self._lib = lib
        self.version = lib.espeak_Info(None).decode()
        self._voices = self._list_voices()
        self._pcm: list[np.ndarray] = []
        self._events: list[tuple[int, int, int, int]] = []

    def _list_voices(self) -> dict[str, str]:
        """language code -> voice identifier, keeping eSpeak's preferred voice per code."""
        best: dict[str, tuple[int, str]] = {}
        voices = self._lib.espeak_ListVoices(None)
        for i in range(10_000):
            if not voices[i]:
                break
            voice = voices[i].contents
            # `languages` packs (priority byte, NUL-terminated code) pairs, ended by a 0 byte
            cursor = voice.languages
            while (priority := ctypes.string_at(cursor, 1)[0]) != 0:
                code = ctypes.string_at(cursor + 1).decode()
                if code not in best or priority < best[code][0]:
                    best[code] = (priority, voice.identifier.decode())
                cursor += len(code) + 2
        return {code: identifier for code, (_, identifier) in best.items()}

    def voice_for(self, language: str) -> str:
        """eSpeak voice for a BCP 47-ish tag ('en', 'pt-BR', 'zh_CN'), longest match first."""
        tag = language.strip().lower().replace("_", "-")
        parts = tag.split("-")
        for n in range(len(parts), 0, -1):
            code = "-".join(parts[:n])
            code = _PREFERRED.get(code, code)
            if code in self._voices:
                return self._voices[code]
        raise EngineError("UNSUPPORTED_LANGUAGE", f"eSpeak NG has no voice for language {language!r}")

    def _collect(self, pcm: ctypes.Array, count: int, events: ctypes.Array) -> int:
        if pcm and count > 0:
            self._pcm.append(np.ctypeslib.as_array(pcm, shape=(count,)).copy())
        i = 0
        while events[i].type != _EVENT_LIST_END:
            e = events[i]
            self._events.append((e.type, e.text_position, e.length, e.audio_position))
            i += 1
        return 0

    def speak(self, text: str, voice: str, speed: float = 1.0, end_pause: bool = True) -> Speech:
        """Synthesise `text` with eSpeak voice `voice` (identifier, optionally '+variant')."""
        wpm = int(np.clip(round(_NORMAL_WPM * speed), _MIN_WPM, _MAX_WPM))
        data = text.encode("utf-8")
        with self._lock:
            self._pcm, self._events = [], []
            if self._lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise EngineError("UNSUPPORTED_LANGUAGE", f"eSpeak NG voice {voice!r} is missing")
            self._lib.espeak_SetParameter(_PARAM_RATE, wpm, 0)
            flags = _CHARS_UTF8 | (_ENDPAUSE if end_pause else 0)
            status = self._lib.espeak_Synth(data, len(data) + 1, 0, _POS_CHARACTER, 0, flags,
                                            None, None)
            pcm, events = self._pcm, self._events
        if status != 0:
            raise RuntimeError(f"espeak_Synth failed with status {status}")
        samples = (np.concatenate(pcm) if pcm else np.zeros(0, np.int16)).astype(np.float32) / 32768
        return Speech(samples, self.rate, _word_timings(text, events, samples, self.rate))


def _word_timings(text: str, events: list[tuple[int, int, int, int]], samples: np.ndarray,
                  rate: int) -> list[WordTiming]:
    """Words from eSpeak's WORD events, in text order.

    A word starts at its event. eSpeak emits several events for one written token it expands
    ("1999" -> nineteen ninety-nine) pointing inside the first one's span: those are folded
    in. A word ends at the next word or clause boundary, less trailing silence.
    """
    duration = len(samples) / rate
    starts: list[tuple[int, float]] = []  # (character index, seconds)
    span_end = -1
    for kind, position, length, ms in events:
        if kind == _EVENT_WORD and position - 1 >= span_end:
            starts.append((position - 1, ms / 1000))
            span_end = position - 1 + max(length, 1)
    boundaries = sorted({ms / 1000 for kind, _, _, ms in events if kind in (_EVENT_SENTENCE, _EVENT_END)}
                        | {seconds for _, seconds in starts} | {duration})
    words = []
    for i, (index, start) in enumerate(starts):
        token_end = next((m.start() for m in re.finditer(r"\s", text[index:])), len(text) - index)
        text_end = min(index + token_end, starts[i + 1][0] if i + 1 < len(starts) else len(text))
        word = _strip_punctuation(text[index:text_end])
        start = min(start, duration)
        end = next((b for b in boundaries if b > start), duration)
        if word:
            words.append(WordTiming(word, start, _trim_silence(samples, rate, start, end), False))
    return words


def _strip_punctuation(token: str) -> str:
    chars = list(token.strip())
    while chars and unicodedata.category(chars[-1]).startswith("P"):
        chars.pop()
    while chars and unicodedata.category(chars[0]).startswith("P"):
        chars.pop(0)
    return "".join(chars)


def _trim_silence(samples: np.ndarray, rate: int, start: float, end: float) -> float:
    """End time moved back over trailing near-silence (pauses belong to no word)."""
    frame = max(1, rate // 100)
    a, b = int(start * rate), int(end * rate)
    segment = samples[a:b]
    if len(segment) < 2 * frame:
        return end
    rms = np.sqrt(uniform_filter1d(segment.astype(np.float64) ** 2, size=frame))
    loud = np.nonzero(rms > 0.02 * max(float(np.abs(samples).max()), 1e-9))[0]
    return (a + loud[-1] + 1) / rate if loud.size else end


# --- voice matching with WORLD ------------------------------------------------------------------

# eSpeak text that exercises most vowels and consonants, to learn each eSpeak voice's own
# pitch and average envelope once
_CALIBRATION_TEXT = ("Every morning the quiet harbour wakes slowly. Fishing boats drift past the "
                     "old stone pier while gulls call above the water. By noon the market is busy "
                     "with voices, bright colours and the smell of fresh bread.")
_FEMALE_VARIANT = "+f2"  # eSpeak's cleanest higher voice, median f0 about 190 Hz
_HIGH_VOICE_HZ = 145.0  # about halfway (geometrically) between eSpeak's male and female voices
_MAX_REFERENCE_S = 30.0
_MIN_VOICED_S = 0.5
_WARP_RANGE = (0.88, 1.12)  # the base voice is already picked by register; warp refines
_FILTER_LIMIT_NEPERS = np.log(10 ** 1.2)  # +-12 dB
_FILTER_SMOOTH_HZ = 400.0


@dataclass(frozen=True)
class VoiceProfile:
    """What is matched: pitch centre and spread (log Hz), mean log envelope of voiced frames."""

    log_f0_median: float
    log_f0_spread: float
    log_envelope: np.ndarray
    bandwidth_hz: float  # above this the recording carries no information


def profile(samples: np.ndarray, rate: int, bandwidth_hz: float) -> VoiceProfile | None:
    """None when there is too little voiced speech to learn from."""
    a = analyse(samples, rate, aperiodicity=False)
    voiced = a.f0 > 0
    if voiced.sum() * 5e-3 < _MIN_VOICED_S:
        return None
    log_f0 = np.log(a.f0[voiced])
    p10, p50, p90 = np.percentile(log_f0, [10, 50, 90])
    return VoiceProfile(float(p50), float(max(p90 - p10, 1e-3) / 2.563),
                        np.log(a.envelope[voiced] + 1e-16).mean(axis=0), bandwidth_hz)


@dataclass(frozen=True)
class VoiceMatch:
    """f0 and envelope mapping from an eSpeak voice to a reference speaker."""

    source: VoiceProfile
    target: VoiceProfile
    f0_scale: float  # ratio of log-f0 spreads, bounded
    warp: float  # > 1 moves formants up (shorter vocal tract)
    log_filter: np.ndarray  # per envelope bin, natural log of power gain

    @classmethod
    def plan(cls, source: VoiceProfile, target: VoiceProfile, rate: int) -> VoiceMatch:
        freqs = np.linspace(0, rate / 2, len(source.log_envelope))
        hz_per_bin = freqs[1]
        band = (freqs > 250) & (freqs < min(5000.0, target.bandwidth_hz))
        detail_window = int(1500 / hz_per_bin) | 1

        def detail(log_envelope: np.ndarray) -> np.ndarray:  # formant-scale shape, no tilt
            return log_envelope - uniform_filter1d(log_envelope, detail_window, mode="nearest")

        target_detail = detail(target.log_envelope)[band]
        warps = np.arange(_WARP_RANGE[0], _WARP_RANGE[1] + 1e-9, 0.005)
        scores = [np.corrcoef(detail(_warp(source.log_envelope, w))[band], target_detail)[0, 1]
                  for w in warps]
        warp = float(warps[int(np.argmax(scores))])
        difference = target.log_envelope - _warp(source.log_envelope, warp)
        difference = uniform_filter1d(difference, int(_FILTER_SMOOTH_HZ / hz_per_bin) | 1,
                                      mode="nearest")
        fitted = (freqs > 100) & (freqs < min(5000.0, target.bandwidth_hz))
        top = int(np.nonzero(fitted)[0][-1])
        difference[top:] = difference[top]  # no information above: extend flat
        difference -= difference[fitted].mean()  # shape only; level is matched separately
        log_filter = np.clip(difference, -_FILTER_LIMIT_NEPERS, _FILTER_LIMIT_NEPERS)
        f0_scale = float(np.clip(target.log_f0_spread / source.log_f0_spread, 0.5, 2.0))
        return cls(source, target, f0_scale, warp, log_filter)

    def apply(self, samples: np.ndarray, rate: int) -> np.ndarray:
        if not samples.size:
            return samples
        a = analyse(samples, rate)
        voiced = a.f0 > 0
        a.f0[voiced] = np.exp(self.target.log_f0_median
                              + (np.log(a.f0[voiced]) - self.source.log_f0_median) * self.f0_scale)
        a.envelope = np.exp(_warp(np.log(a.envelope + 1e-16), self.warp) + self.log_filter)
        converted = synthesise(a)
        # keep eSpeak's level: the envelope filter is level-neutral only on average
        before, after = np.sqrt(np.mean(samples**2)), np.sqrt(np.mean(converted**2))
        return converted * (before / after) if after > 0 else converted


def _warp(log_envelope: np.ndarray, factor: float) -> np.ndarray:
    """Envelope(s) with frequency axis scaled: new(f) = old(f / factor), along the last axis."""
    bins = log_envelope.shape[-1]
    source = np.minimum(np.arange(bins) / factor, bins - 1)
    low = np.floor(source).astype(int)
    high = np.minimum(low + 1, bins - 1)
    weight = source - low
    return log_envelope[..., low] * (1 - weight) + log_envelope[..., high] * weight


# --- the engine ---------------------------------------------------------------------------------

_SENTENCE_END = re.compile(r"(?<=[.!?;:。！？；])\s+|\n+|(?<=[。！？])")
_MAX_CHUNK_CHARS = 400
_CACHE_SIZE = 32


class FormantEngine:
    """eSpeak NG + WORLD voice matching. Thread-safe; eSpeak calls are serialised."""

    name = "formant"
    version = "1"

    def __init__(self) -> None:
        self._espeak = ESpeak.shared()
        self.model = f"espeak-ng-{self._espeak.version}+world-{pyworld.__version__}"
        self._references: dict[str, VoiceProfile | None] = {}
        self._bases: dict[str, VoiceProfile] = {}

    def synthesize(self, reference: ReferenceVoice, request: SynthesisRequest,
                   progress: ProgressCallback | None = None,
                   should_cancel: CancelCheck | None = None) -> SynthesisResult:
        if not any(ch.isalnum() for ch in request.text):
            raise EngineError("EMPTY_TEXT", "the text has nothing to speak")
        base_voice = self._espeak.voice_for(request.language)
        target = self._reference_profile(reference)
        if target is None:
            raise EngineError("REFERENCE_UNUSABLE",
                              "the reference audio holds too little voiced speech to match")
        if np.exp(target.log_f0_median) > _HIGH_VOICE_HZ:
            base_voice += _FEMALE_VARIANT
        match = VoiceMatch.plan(self._base_profile(base_voice), target, self._espeak.rate)

        chunks = list(_chunks(request.text))
        pieces: list[np.ndarray] = []
        words: list[WordTiming] = []
        offset = 0.0
        for i, chunk in enumerate(chunks):
            if should_cancel and should_cancel():
                raise SynthesisCancelled()
            speech = self._espeak.speak(chunk, base_voice, request.speed,
                                        end_pause=i < len(chunks) - 1)
            pieces.append(match.apply(speech.samples, speech.rate))
            words += [WordTiming(w.word, w.start_time + offset, w.end_time + offset, False)
                      for w in speech.words]
            offset += len(speech.samples) / speech.rate
            if progress:
                progress((i + 1) / len(chunks), f"sentence {i + 1} of {len(chunks)}")
        audio = np.concatenate(pieces).astype(np.float32)
        peak = float(np.abs(audio).max(initial=0.0))
        if peak > 0.99:
            audio *= 0.99 / peak
        return SynthesisResult(
            audio=audio, sample_rate=self._espeak.rate, words=words, engine=self.name,
            model=self.model, version=self.version,
            extra={"espeak_voice": base_voice, "formant_warp": round(match.warp, 3),
                   "f0_hz": round(float(np.exp(target.log_f0_median)), 1)})

    def _reference_profile(self, reference: ReferenceVoice) -> VoiceProfile | None:
        if reference.voice_id not in self._references:
            rate = self._espeak.rate
            clip = reference.audio[: int(_MAX_REFERENCE_S * reference.sample_rate)]
            samples = resample(clip, reference.sample_rate, rate)
            bandwidth = 0.45 * min(reference.sample_rate, rate)
            _remember(self._references, reference.voice_id, profile(samples, rate, bandwidth))
        return self._references[reference.voice_id]

    def _base_profile(self, voice: str) -> VoiceProfile:
        if voice not in self._bases:
            speech = self._espeak.speak(_CALIBRATION_TEXT, voice)
            found = profile(speech.samples, speech.rate, 0.45 * speech.rate)
            if found is None:
                raise RuntimeError(f"eSpeak voice {voice!r} produced no voiced speech")
            _remember(self._bases, voice, found)
        return self._bases[voice]


def _remember(cache: dict, key: str, value: object) -> None:
    if len(cache) >= _CACHE_SIZE:
        cache.pop(next(iter(cache)))
    cache[key] = value


def _chunks(text: str) -> Iterator[str]:
    """Sentences (split after end punctuation or at line breaks), long ones cut at spaces."""
    for sentence in _SENTENCE_END.split(text):
        sentence = sentence.strip()
        while len(sentence) > _MAX_CHUNK_CHARS:
            cut = sentence.rfind(" ", 0, _MAX_CHUNK_CHARS)
            cut = cut if cut > 0 else _MAX_CHUNK_CHARS
            yield sentence[:cut]
            sentence = sentence[cut:].strip()
        if any(ch.isalnum() for ch in sentence):
            yield sentence
