"""The offline formant engine: real eSpeak NG speech, re-voiced toward a reference by WORLD."""

from __future__ import annotations

import io
import threading

import numpy as np
import pytest
import soundfile as sf

from tests.fixtures.speech import SENTENCE, espeak_speech, median_f0
from tests.fixtures.worker import REFERENCE_TEXT, reference_speech
from voxify_worker.audio.process import resample
from voxify_worker.audio.world import shift_pitch
from voxify_worker.engines.base import (
    EngineError,
    ReferenceVoice,
    SynthesisCancelled,
    SynthesisRequest,
    SynthesisResult,
)
from voxify_worker.engines.formant import FormantEngine

TEXT = "The quick brown fox jumps over the lazy dog. Yes, it is raining in the valley today!"


def _words(text: str) -> list[str]:
    return [w.strip(".,!?") for w in text.split()]


def _log_distance(a: float, b: float) -> float:
    return abs(float(np.log(a / b)))


@pytest.fixture(scope="module")
def engine() -> FormantEngine:
    return FormantEngine()


@pytest.fixture(scope="module")
def high_voice() -> ReferenceVoice:
    """A higher voice than any eSpeak default (its 'Annie' variant, about 240 Hz)."""
    samples, rate = espeak_speech(voice="gmw/en-US+Annie")
    return ReferenceVoice("annie", samples, rate, SENTENCE)


@pytest.fixture(scope="module")
def low_voice() -> ReferenceVoice:
    """A deep voice: eSpeak's default male lowered five semitones (about 75 Hz), at 44.1 kHz."""
    samples, rate = espeak_speech()
    deep = shift_pitch(samples, rate, -5.0)
    return ReferenceVoice("deep", resample(deep, rate, 44_100), 44_100, SENTENCE)


@pytest.fixture(scope="module")
def result(engine: FormantEngine, high_voice: ReferenceVoice) -> SynthesisResult:
    return engine.synthesize(high_voice, SynthesisRequest(TEXT))


def test_output_is_float_mono_speech_of_plausible_length(result: SynthesisResult) -> None:
    assert result.engine == "formant" and result.model.startswith("espeak-ng-")
    assert result.audio.dtype == np.float32 and result.audio.ndim == 1
    assert result.sample_rate == 22_050
    assert np.abs(result.audio).max() <= 1.0
    assert np.sqrt(np.mean(result.audio**2)) > 0.01
    words = len(_words(TEXT))
    assert 0.2 * words < result.duration < 0.8 * words  # eSpeak's 175 words per minute, pauses


def test_word_timings_follow_the_text_and_the_audio(result: SynthesisResult) -> None:
    assert [w.word for w in result.words] == _words(TEXT)
    starts = [w.start_time for w in result.words]
    assert starts == sorted(starts) and starts[0] >= 0
    for word, following in zip(result.words, result.words[1:], strict=False):
        assert word.start_time < word.end_time <= following.start_time + 1e-6
    assert result.words[-1].end_time <= result.duration
    # they come from eSpeak's events, not from spreading the text over the duration
    assert sum(not w.estimated for w in result.words) >= 0.8 * len(result.words)
    # and every word's span holds sound
    rate = result.sample_rate
    for w in result.words:
        span = result.audio[int(w.start_time * rate) : int(w.end_time * rate)]
        assert np.sqrt(np.mean(span**2)) > 0.005, w


@pytest.mark.parametrize("voice", ["high_voice", "low_voice"])
def test_pitch_moves_to_the_reference_speaker(engine, voice, request) -> None:
    reference: ReferenceVoice = request.getfixturevalue(voice)
    target = median_f0(reference.audio, reference.sample_rate)
    out = engine.synthesize(reference, SynthesisRequest(SENTENCE))
    produced = median_f0(out.audio, out.sample_rate)
    plain = median_f0(*espeak_speech(SENTENCE, out.extra["espeak_voice"]))
    assert _log_distance(produced, target) < np.log(1.08)
    assert _log_distance(produced, target) < 0.3 * _log_distance(plain, target)


def test_pitch_matches_real_recorded_speech(engine) -> None:
    samples, rate = sf.read(io.BytesIO(reference_speech()), dtype="float32")
    reference = ReferenceVoice("f5-basic-en", samples, rate, REFERENCE_TEXT)
    out = engine.synthesize(reference, SynthesisRequest(TEXT))
    produced = median_f0(out.audio, out.sample_rate)
    assert _log_distance(produced, median_f0(samples, rate)) < np.log(1.1)
    assert [w.word for w in out.words] == _words(TEXT)


def test_faster_speech_is_shorter(engine, high_voice) -> None:
    durations = {
        speed: engine.synthesize(high_voice, SynthesisRequest(TEXT, speed=speed)).duration for speed in (0.5, 1.0, 2.0)
    }
    assert durations[2.0] < 0.7 * durations[1.0] < 0.7 * 0.7 * durations[0.5]


def test_progress_per_sentence_and_cancel_between_them(engine, high_voice) -> None:
    reports: list[tuple[float, str]] = []
    engine.synthesize(
        high_voice, SynthesisRequest(TEXT), progress=lambda fraction, message: reports.append((fraction, message))
    )
    assert [f for f, _ in reports] == [0.5, 1.0]

    checks = iter([False, True])
    with pytest.raises(SynthesisCancelled):
        engine.synthesize(high_voice, SynthesisRequest(TEXT), should_cancel=lambda: next(checks))


@pytest.mark.parametrize("text", ["", "   ", "... !?"])
def test_nothing_to_say_is_refused(engine, high_voice, text) -> None:
    with pytest.raises(EngineError) as caught:
        engine.synthesize(high_voice, SynthesisRequest(text))
    assert caught.value.code == "EMPTY_TEXT"


def test_unknown_language_is_refused_clearly(engine, high_voice) -> None:
    with pytest.raises(EngineError) as caught:
        engine.synthesize(high_voice, SynthesisRequest("Hello.", language="qq"))
    assert caught.value.code == "UNSUPPORTED_LANGUAGE" and "qq" in str(caught.value)


@pytest.mark.parametrize(
    "language, voice",
    [
        ("en", "gmw/en-US"),
        ("en-GB", "gmw/en"),
        ("fr_CA", "roa/fr"),
        ("pt-BR", "roa/pt-BR"),
        ("zh", "sit/cmn"),
        ("de", "gmw/de"),
    ],
)
def test_language_picks_the_espeak_voice(engine, high_voice, language, voice) -> None:
    out = engine.synthesize(high_voice, SynthesisRequest("Un deux trois.", language=language))
    assert out.extra["espeak_voice"].split("+")[0] == voice


def test_non_latin_text_keeps_its_words(engine, high_voice) -> None:
    out = engine.synthesize(high_voice, SynthesisRequest("Ça élève une naïve idée.", language="fr"))
    assert [w.word for w in out.words][:4] == ["Ça", "élève", "une", "naïve"]
    zh = engine.synthesize(high_voice, SynthesisRequest("你好，世界。", language="zh"))
    assert "".join(w.word for w in zh.words) == "你好世界"


def test_silent_reference_is_refused(engine) -> None:
    silent = ReferenceVoice("silent", np.zeros(48_000, np.float32), 16_000, "nothing")
    with pytest.raises(EngineError) as caught:
        engine.synthesize(silent, SynthesisRequest("Hello there."))
    assert caught.value.code == "INVALID_REFERENCE"


def test_concurrent_jobs_do_not_mix_their_speech(engine, high_voice, low_voice) -> None:
    """eSpeak's C API is one global synthesiser; the engine must serialise it."""
    jobs = {"a": ("One two three four five six.", high_voice), "b": ("Red green blue yellow purple orange.", low_voice)}
    heard: dict[str, list[list[str]]] = {key: [] for key in jobs}

    def run(key: str) -> None:
        text, voice = jobs[key]
        for _ in range(3):
            result = engine.synthesize(voice, SynthesisRequest(text))
            heard[key].append([w.word for w in result.words])

    threads = [threading.Thread(target=run, args=(key,)) for key in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for key, (text, _) in jobs.items():
        assert heard[key] == [_words(text)] * 3


def test_each_sentence_is_handed_over_as_soon_as_it_is_made(engine, high_voice) -> None:
    events: list[str] = []
    chunks: list[np.ndarray] = []

    def chunk(samples: np.ndarray, rate: int) -> None:
        events.append("chunk")
        chunks.append(samples)

    result = engine.synthesize(
        high_voice, SynthesisRequest(TEXT), progress=lambda *_: events.append("progress"), on_chunk=chunk
    )
    assert events == ["chunk", "progress", "chunk", "progress"]
    joined = np.concatenate(chunks)
    assert len(joined) == len(result.audio)
    # the same audio, up to the one gain the engine may apply to the whole of it
    gain = float(np.abs(result.audio).max() / np.abs(joined).max())
    np.testing.assert_allclose(joined * gain, result.audio, atol=1e-6)
