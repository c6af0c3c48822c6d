"""eSpeak NG through ctypes (speak_lib.h): the library, its voices, and speech with word times.

The `espeakng-loader` wheel bundles the library and its data, so no system package and no
network. `ESpeak.shared()` is the one process-wide instance: the C API is global state (one
voice, one callback, one synthesis at a time). `speak` returns PCM and the words eSpeak's
WORD events place in it; `phonemize` returns IPA phonemes, what the neural voice
(engines/vits.py) reads. The formant engine (engines/formant.py) is built on it; tests use it
to make real speech offline. This is a binding, not an engine: it knows nothing of reference
voices or jobs.
"""

from __future__ import annotations

import ctypes
import itertools
import re
import threading
from dataclasses import dataclass

import espeakng_loader
import numpy as np
from scipy.ndimage import uniform_filter1d

from voxify.errors import ErrorCode

from .base import EngineError, WordTiming, strip_punctuation

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000
_POS_CHARACTER = 1
_CHARS_UTF8, _ENDPAUSE = 0x1, 0x1000
_PARAM_RATE = 1
_EVENT_LIST_END, _EVENT_WORD, _EVENT_SENTENCE, _EVENT_END = 0, 1, 2, 5
_NORMAL_WPM, _MIN_WPM, _MAX_WPM = 175, 80, 450
_PHONEMES_IPA = 0x02
_CLAUSE_PUNCTUATION = ",.;:!?"
_CLAUSE_END = re.compile(r"(?<=[,.;:!?])[\"')\]»”’]*\s+")
_CLOSING_QUOTES = " \t\n\"')]»”’"


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


class _Voice(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_void_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


_SynthCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))

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
        lib.espeak_Synth.argtypes = [
            ctypes.c_char_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        lib.espeak_ListVoices.argtypes = [ctypes.c_void_p]
        lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_Voice))
        lib.espeak_Info.argtypes = [ctypes.c_void_p]
        lib.espeak_Info.restype = ctypes.c_char_p
        lib.espeak_TextToPhonemes.argtypes = [ctypes.POINTER(ctypes.c_char_p), ctypes.c_int, ctypes.c_int]
        lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
        self.rate = lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, 0, espeakng_loader.get_data_path().encode(), _INITIALIZE_DONT_EXIT
        )
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
        for i in itertools.count():
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
        raise EngineError(ErrorCode.UNSUPPORTED_LANGUAGE, f"eSpeak NG has no voice for language {language!r}")

    def _collect(self, pcm: ctypes._Pointer[ctypes.c_short], count: int, events: ctypes._Pointer[_Event]) -> int:
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
                raise EngineError(ErrorCode.UNSUPPORTED_LANGUAGE, f"eSpeak NG voice {voice!r} is missing")
            self._lib.espeak_SetParameter(_PARAM_RATE, wpm, 0)
            flags = _CHARS_UTF8 | (_ENDPAUSE if end_pause else 0)
            status = self._lib.espeak_Synth(data, len(data) + 1, 0, _POS_CHARACTER, 0, flags, None, None)
            pcm, events = self._pcm, self._events
        if status != 0:
            raise RuntimeError(f"espeak_Synth failed with status {status}")
        samples = (np.concatenate(pcm) if pcm else np.zeros(0, np.int16)).astype(np.float32) / 32768
        return Speech(samples, self.rate, _word_timings(text, events, samples, self.rate))

    def phonemize(self, text: str, voice: str) -> str:
        """IPA phonemes of `text` in eSpeak voice `voice`, words separated by spaces.

        eSpeak drops the punctuation that ends a clause, and neural voices trained on its
        phonemes use that punctuation for phrasing and intonation; so the text is cut into
        clauses here and each clause's closing mark is put back after its phonemes.
        """
        with self._lock:
            if self._lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise EngineError(ErrorCode.UNSUPPORTED_LANGUAGE, f"eSpeak NG voice {voice!r} is missing")
            clauses = [self._clause_phonemes(clause) for clause in _CLAUSE_END.split(text)]
        return " ".join(clause for clause in clauses if clause)

    def _clause_phonemes(self, clause: str) -> str:
        """One clause's phonemes and its closing punctuation mark; the caller holds the lock."""
        buffer = ctypes.create_string_buffer(clause.encode("utf-8"))
        cursor = ctypes.c_char_p(ctypes.addressof(buffer))
        parts = []
        while cursor.value:
            phonemes = self._lib.espeak_TextToPhonemes(ctypes.byref(cursor), _CHARS_UTF8, _PHONEMES_IPA)
            parts.append((phonemes or b"").decode().strip())
        spoken = " ".join(part for part in parts if part)
        closing = clause.rstrip(_CLOSING_QUOTES)[-1:]
        return spoken + closing if spoken and closing in _CLAUSE_PUNCTUATION else spoken


def _word_timings(
    text: str, events: list[tuple[int, int, int, int]], samples: np.ndarray, rate: int
) -> list[WordTiming]:
    """Words from eSpeak's WORD events, in text order.

    A word starts at its event and ends at the next word or clause boundary, less trailing
    silence. eSpeak sends several events for a token it expands ("1999" -> nineteen
    ninety-nine), pointing inside the first one's span: those are folded in. It sends none
    for some unstressed words it runs into the previous one ("in the valley"): those share
    the previous event's time by length and are marked estimated.
    """
    duration = len(samples) / rate
    starts: list[tuple[int, float]] = []  # (character index, seconds)
    span_end = -1
    for kind, position, length, ms in events:
        seconds = min(ms / 1000, duration)
        # a word must start after the previous one, or it cannot have a span of its own
        later = not starts or seconds > starts[-1][1]
        if kind == _EVENT_WORD and position - 1 >= span_end and later:
            starts.append((position - 1, seconds))
            span_end = position - 1 + max(length, 1)
    clauses = {ms / 1000 for kind, _, _, ms in events if kind in (_EVENT_SENTENCE, _EVENT_END)}
    boundaries = sorted(clauses | {seconds for _, seconds in starts} | {duration})
    words = []
    for i, (index, start) in enumerate(starts):
        stop = starts[i + 1][0] if i + 1 < len(starts) else len(text)
        tokens = [t for t in map(strip_punctuation, text[index:stop].split()) if t]
        if not tokens:
            continue
        boundary = next((b for b in boundaries if b > start), duration)
        end = _trim_silence(samples, rate, start, boundary)
        lengths = np.array([0] + [len(t) for t in tokens])
        edges = start + (end - start) * np.cumsum(lengths) / lengths.sum()
        words += [WordTiming(t, float(edges[j]), float(edges[j + 1]), estimated=j > 0) for j, t in enumerate(tokens)]
    return words


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
