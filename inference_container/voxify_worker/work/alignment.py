"""Word timings measured by forced alignment, for engines that can only estimate them, and
the words heard in a recording (`transcribe`, for voice verification).

F5-TTS and the neural voice report no word times; they spread the text over the audio and
mark every word estimated. For English, PocketSphinx (its wheel bundles a US English acoustic
model and dictionary: no download) aligns the known text to the audio and says where each
word really starts and ends; those timings replace the estimate and are not marked
estimated. Words the dictionary lacks (names, numbers as digits) are pronounced by eSpeak NG
and added to it. Any other language, or an alignment that does not come out word for word,
keeps the engine's estimate as it was.
"""

from __future__ import annotations

import re
import threading

import numpy as np
from pocketsphinx import Decoder

from voxify.observability import logger
from voxify_worker.audio import resample
from voxify_worker.engines.base import WordTiming
from voxify_worker.engines.espeak import ESpeak

_RATE = 16_000
_FRAMES_PER_SECOND = 100  # PocketSphinx's default frame rate
_ESPEAK_VOICE = "en-us"  # the dialect of PocketSphinx's model and dictionary
# eSpeak NG's IPA for US English to the dictionary's ARPAbet; longest symbols first
_ARPABET = {
    "aɪ": "AY", "aʊ": "AW", "eɪ": "EY", "oʊ": "OW", "ɔɪ": "OY", "tʃ": "CH", "dʒ": "JH",
    "ɑː": "AA", "ɔː": "AO", "ɜː": "ER", "iː": "IY", "uː": "UW", "ɪɹ": "IH R", "ɛɹ": "EH R",
    "ɑ": "AA", "a": "AA", "ɒ": "AA", "æ": "AE", "ʌ": "AH", "ə": "AH", "ɐ": "AH", "ɚ": "ER",
    "ɜ": "ER", "ɔ": "AO", "ɛ": "EH", "e": "EH", "ɪ": "IH", "ᵻ": "IH", "i": "IY", "o": "OW",
    "ʊ": "UH", "u": "UW", "b": "B", "d": "D", "ð": "DH", "f": "F", "ɡ": "G", "g": "G",
    "h": "HH", "k": "K", "x": "K", "l": "L", "m": "M", "n": "N", "ŋ": "NG", "p": "P",
    "ɹ": "R", "r": "R", "s": "S", "ʃ": "SH", "t": "T", "ʔ": "T", "ɾ": "D", "θ": "TH",
    "v": "V", "w": "W", "j": "Y", "z": "Z", "ʒ": "ZH",
}  # fmt: skip
_IPA_SYMBOL = re.compile("|".join(sorted(map(re.escape, _ARPABET), key=len, reverse=True)))
_NOT_IN_WORD = re.compile(r"[^\w']+")
_ALTERNATIVE = re.compile(r"\(\d+\)$")  # "the(2)": the dictionary's second pronunciation
_RECOGNITION = "_default"  # the decoder's search with its language model, as created


class WordAligner:
    """One PocketSphinx decoder for the process; it is not thread-safe, so calls take turns."""

    _instance: WordAligner | None = None
    _create_lock = threading.Lock()

    @classmethod
    def shared(cls) -> WordAligner:
        with cls._create_lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def __init__(self) -> None:
        self._decoder = Decoder(samprate=_RATE, loglevel="FATAL")
        self._lock = threading.Lock()

    def align(self, audio: np.ndarray, rate: int, words: list[WordTiming], language: str) -> list[WordTiming]:
        """`words` with measured times where they can be measured, else unchanged."""
        if not language.lower().startswith("en") or not words or not all(w.estimated for w in words):
            return words  # another language, or the engine's own timings (eSpeak's events)
        entries = [self._entry(w.word) for w in words]
        if not all(entries):
            return words
        pcm = (np.clip(resample(audio, rate, _RATE), -1.0, 1.0) * 32767).astype(np.int16)
        with self._lock:
            try:
                self._decoder.set_align_text(" ".join(entries))
                self._decoder.start_utt()
                self._decoder.process_raw(pcm.tobytes(), full_utt=True)
                self._decoder.end_utt()
                spoken = [_ALTERNATIVE.sub("", s.word) for s in self._decoder.seg()]
                segments = [s for s, word in zip(self._decoder.seg(), spoken, strict=True) if word in set(entries)]
            except RuntimeError:
                logger.warning("alignment failed: keeping estimated word timings")
                return words
        if [_ALTERNATIVE.sub("", s.word) for s in segments] != entries:
            return words
        return [
            WordTiming(w.word, s.start_frame / _FRAMES_PER_SECOND, (s.end_frame + 1) / _FRAMES_PER_SECOND)
            for w, s in zip(words, segments, strict=True)
        ]

    def transcribe(self, audio: np.ndarray, rate: int) -> list[str]:
        """The words PocketSphinx recognises in English speech (its bundled US English model
        and language model), lower case; fillers and noise markers left out."""
        pcm = (np.clip(resample(audio, rate, _RATE), -1.0, 1.0) * 32767).astype(np.int16)
        with self._lock:
            self._decoder.activate_search(_RECOGNITION)  # alignment leaves its own search active
            self._decoder.start_utt()
            self._decoder.process_raw(pcm.tobytes(), full_utt=True)
            self._decoder.end_utt()
            hypothesis = self._decoder.hyp()
        return hypothesis.hypstr.split() if hypothesis else []

    def _entry(self, word: str) -> str:
        """The dictionary entry for a written word, added from eSpeak's pronunciation if
        missing; '' when it cannot be pronounced. The caller need not hold the lock."""
        entry = _NOT_IN_WORD.sub("", word.lower())
        if not entry:
            return ""
        with self._lock:
            if self._decoder.lookup_word(entry) is not None:
                return entry
            phones = " ".join(_ARPABET[s] for s in _IPA_SYMBOL.findall(ESpeak.shared().phonemize(word, _ESPEAK_VOICE)))
            if not phones:
                return ""
            self._decoder.add_word(entry, phones, True)
        return entry


def transcribe(audio: np.ndarray, rate: int) -> list[str]:
    """The words heard in English speech."""
    return WordAligner.shared().transcribe(audio, rate)


def align_words(audio: np.ndarray, rate: int, words: list[WordTiming], language: str) -> list[WordTiming]:
    """Measured word timings for English speech whose engine only estimated them."""
    return WordAligner.shared().align(audio, rate, words, language)
