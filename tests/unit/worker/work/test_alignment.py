"""Forced alignment: word timings measured on real speech, checked against the silences in it."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf

from tests.fixtures.worker import REFERENCE_TEXT, reference_speech
from voxify_worker.engines.base import ReferenceVoice, SynthesisRequest, WordTiming, spoken_words, spread_words
from voxify_worker.engines.vits import VitsEngine
from voxify_worker.work.alignment import align_words

FRAME_S = 0.01
SILENCE_DB = -30.0  # below the recording's peak frame
MIN_GAP_S = 0.05
MIN_SPEECH_S = 0.03
TOLERANCE_S = 0.08


@pytest.fixture(scope="module")
def recording() -> tuple[np.ndarray, int]:
    samples, rate = sf.read(io.BytesIO(reference_speech()), dtype="float32")
    return samples, rate


def silent_gaps(samples: np.ndarray, rate: int) -> list[tuple[float, float]]:
    """(start, end) of each pause of 50 ms or more that speech (30 ms or more of sound, so a
    click is not speech) follows: an independent view of where words start. A word begins
    inside the silence before it: a stop's closure is silent and belongs to its word."""
    frame = int(FRAME_S * rate)
    energy = np.sqrt(np.mean(samples[: len(samples) // frame * frame].reshape(-1, frame) ** 2, axis=1))
    loud = 20 * np.log10(energy / energy.max() + 1e-12) >= SILENCE_DB
    runs = np.flatnonzero(np.diff(np.concatenate([[0], loud.astype(int), [0]])))
    speech = [(a, b) for a, b in zip(runs[::2], runs[1::2], strict=True) if (b - a) * FRAME_S >= MIN_SPEECH_S]
    ends = [0] + [b for _, b in speech]
    return [
        (end * FRAME_S, a * FRAME_S)
        for end, (a, _) in zip(ends, speech, strict=False)
        if (a - end) * FRAME_S >= MIN_GAP_S
    ]


def distance_to(gap: tuple[float, float], seconds: float) -> float:
    return max(gap[0] - seconds, seconds - gap[1], 0.0)


def test_word_starts_on_real_speech_fall_in_its_pauses(recording) -> None:
    samples, rate = recording
    estimate = spread_words(REFERENCE_TEXT, samples, rate)
    aligned = align_words(samples, rate, estimate, "en")
    assert [w.word for w in aligned] == spoken_words(REFERENCE_TEXT)
    assert not any(w.estimated for w in aligned)
    starts = [w.start_time for w in aligned]
    assert starts == sorted(starts) and all(w.start_time < w.end_time for w in aligned)
    gaps = silent_gaps(samples, rate)
    assert len(gaps) >= 4  # the leading silence, the comma's pause and stop closures
    for gap in gaps:
        nearest = min(starts, key=lambda start: distance_to(gap, start))
        assert distance_to(gap, nearest) <= TOLERANCE_S, (gap, nearest)
    # and the measurement moved the estimate: the comma's long pause is no word's
    assert any(abs(a.start_time - e.start_time) > TOLERANCE_S for a, e in zip(aligned, estimate, strict=True))


def test_synthesised_speech_is_aligned_out_of_dictionary_words_included(recording) -> None:
    samples, rate = recording
    text = "Please call Stella Zhivago at 5 tomorrow."
    result = VitsEngine().synthesize(ReferenceVoice("f5", samples, rate, REFERENCE_TEXT), SynthesisRequest(text))
    aligned = align_words(result.audio, result.sample_rate, result.words, "en-US")
    assert [w.word for w in aligned] == spoken_words(text) and not any(w.estimated for w in aligned)
    assert all(a.start_time < b.start_time for a, b in zip(aligned, aligned[1:], strict=False))
    assert aligned[-1].end_time <= result.duration + FRAME_S


def test_other_languages_keep_the_estimate(recording) -> None:
    samples, rate = recording
    estimate = [WordTiming("bonjour", 0.2, 0.8, estimated=True)]
    assert align_words(samples, rate, estimate, "fr") == estimate
