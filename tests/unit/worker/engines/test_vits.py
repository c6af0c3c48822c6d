"""The neural offline engine: the bundled VITS voice run for real, re-voiced toward a reference."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf
from pocketsphinx import Decoder

from tests.fixtures.speech import median_f0
from tests.fixtures.worker import REFERENCE_TEXT, other_speaker_flac, reference_speech
from voxify_worker.audio.process import resample
from voxify_worker.engines.base import (
    EngineError,
    ReferenceVoice,
    SynthesisCancelled,
    SynthesisRequest,
    SynthesisResult,
    spoken_words,
)
from voxify_worker.engines.vits import VitsEngine

TEXT = "The quick brown fox jumps over the lazy dog. Please call Stella tomorrow morning!"


def _log_distance(a: float, b: float) -> float:
    return abs(float(np.log(a / b)))


def _recording(data: bytes, name: str, transcript: str = "") -> ReferenceVoice:
    samples, rate = sf.read(io.BytesIO(data), dtype="float32")
    return ReferenceVoice(name, samples.mean(axis=1) if samples.ndim > 1 else samples, rate, transcript)


@pytest.fixture(scope="module")
def engine() -> VitsEngine:
    return VitsEngine()


@pytest.fixture(scope="module")
def reference() -> ReferenceVoice:
    """Real recorded speech, a low voice (about 110 Hz), with its transcript."""
    return _recording(reference_speech(), "f5-basic-en", REFERENCE_TEXT)


@pytest.fixture(scope="module")
def high_reference() -> ReferenceVoice:
    """Another real speaker, about 200 Hz, without a transcript (44.1 kHz stereo file)."""
    return _recording(other_speaker_flac("main.flac"), "f5-main")


@pytest.fixture(scope="module")
def result(engine: VitsEngine, reference: ReferenceVoice) -> SynthesisResult:
    return engine.synthesize(reference, SynthesisRequest(TEXT))


def test_phonemes_become_ids_as_the_voice_was_trained(engine: VitsEngine) -> None:
    phonemes = engine.phonemes("Yes, it works. Really?")
    assert phonemes.count(",") == 1 and phonemes.endswith("?") and "." in phonemes
    table = engine.voice.phoneme_ids
    ids = engine.voice.ids("ab")
    bos, eos, pad = table["^"][0], table["$"][0], table["_"][0]
    assert ids == [bos, pad, table["a"][0], pad, table["b"][0], pad, eos]


def test_output_is_float_mono_speech_recording_its_engine(result: SynthesisResult) -> None:
    assert result.engine == "vits" and result.model == "en_US-joe-medium+world"
    assert result.version.startswith("onnxruntime-")
    assert result.audio.dtype == np.float32 and result.audio.ndim == 1
    assert result.sample_rate == 22_050 and np.abs(result.audio).max() <= 1.0
    assert 2.5 < result.duration < 8.0  # fourteen words of natural speech


def test_a_recogniser_understands_it(result: SynthesisResult) -> None:
    """The point of the engine: speech an open recogniser follows (eSpeak's scores WER 0.86)."""
    decoder = Decoder(loglevel="FATAL")
    pcm = (resample(result.audio, result.sample_rate, 16_000) * 32767).astype(np.int16)
    decoder.start_utt()
    decoder.process_raw(pcm.tobytes(), full_utt=True)
    decoder.end_utt()
    heard = set(decoder.hyp().hypstr.split())
    expected = {w.lower() for w in spoken_words(TEXT)}
    assert len(heard & expected) >= 0.6 * len(expected), heard


def test_word_timings_are_estimated_in_text_order(result: SynthesisResult) -> None:
    assert [w.word for w in result.words] == spoken_words(TEXT)
    assert all(w.estimated for w in result.words)
    for word, following in zip(result.words, result.words[1:], strict=False):
        assert word.start_time < word.end_time <= following.start_time
    assert result.words[0].start_time >= 0 and result.words[-1].end_time <= result.duration


def test_pitch_moves_to_each_reference_speaker(engine, reference, high_reference) -> None:
    plain = median_f0(engine.voice.speak(engine.phonemes(TEXT)), engine.voice.sample_rate)
    for voice in (reference, high_reference):
        target = median_f0(voice.audio, voice.sample_rate)
        out = engine.synthesize(voice, SynthesisRequest(TEXT))
        produced = median_f0(out.audio, out.sample_rate)
        # the voice samples its intonation afresh each time (medians spread about +-6 %)
        assert _log_distance(produced, target) < np.log(1.2)
        assert _log_distance(produced, target) < 0.6 * _log_distance(plain, target)


def test_faster_speech_is_shorter(engine, reference) -> None:
    durations = {
        speed: engine.synthesize(reference, SynthesisRequest(TEXT, speed=speed)).duration for speed in (0.5, 1.0, 2.0)
    }
    assert durations[2.0] < 0.75 * durations[1.0] < 0.75 * 0.75 * durations[0.5]


def test_progress_per_sentence_and_cancel_between_them(engine, reference) -> None:
    reports: list[float] = []
    engine.synthesize(reference, SynthesisRequest(TEXT), progress=lambda fraction, _: reports.append(fraction))
    assert reports == [0.5, 1.0]
    checks = iter([False, True])
    with pytest.raises(SynthesisCancelled):
        engine.synthesize(reference, SynthesisRequest(TEXT), should_cancel=lambda: next(checks))


def test_it_refuses_what_it_cannot_speak(engine, reference) -> None:
    with pytest.raises(EngineError) as nothing:
        engine.synthesize(reference, SynthesisRequest("... !?"))
    assert nothing.value.code == "EMPTY_TEXT"
    with pytest.raises(EngineError) as french:
        engine.synthesize(reference, SynthesisRequest("Bonjour.", language="fr"))
    assert french.value.code == "UNSUPPORTED_LANGUAGE"
    silent = ReferenceVoice("silent", np.zeros(48_000, np.float32), 16_000, "nothing")
    with pytest.raises(EngineError) as empty:
        engine.synthesize(silent, SynthesisRequest("Hello there."))
    assert empty.value.code == "INVALID_REFERENCE"


def test_each_sentence_is_handed_over_as_soon_as_it_is_made(engine, reference) -> None:
    events: list[str] = []
    chunks: list[np.ndarray] = []

    def chunk(samples: np.ndarray, rate: int) -> None:
        assert rate == engine.voice.sample_rate
        events.append("chunk")
        chunks.append(samples)

    result = engine.synthesize(
        reference, SynthesisRequest(TEXT), progress=lambda *_: events.append("progress"), on_chunk=chunk
    )
    assert events == ["chunk", "progress", "chunk", "progress"]  # before the next sentence starts
    np.testing.assert_array_equal(np.concatenate(chunks), result.audio)
