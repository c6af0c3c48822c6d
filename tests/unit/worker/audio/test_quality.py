"""Sample quality on real recordings (the speech shipped in the f5-tts wheel) and on the
kinds of bad upload people actually make: silence, a fraction of a second, clipped, noise."""

import numpy as np
import pytest

from tests.fixtures.worker import other_speaker_flac, reference_speech
from voxify_worker.audio import decode
from voxify_worker.audio.quality import measure, rejection_reasons


@pytest.fixture(scope="module")
def speech() -> tuple[np.ndarray, int]:
    return decode(reference_speech())


@pytest.mark.parametrize("load", [reference_speech, other_speaker_flac, lambda: other_speaker_flac("main.flac")])
def test_real_speech_passes_with_a_high_score(load) -> None:
    quality = measure(*decode(load()))
    assert rejection_reasons(quality) == []
    assert quality.score >= 80
    assert 0.5 < quality.speech_ratio <= 1.0
    assert quality.snr_db > 25 and quality.spectral_flatness < 0.05
    assert quality.clipping_ratio == 0 and -30 < quality.loudness_lufs < -10
    assert quality.sample_rate in (24_000, 44_100)


def test_basic_figures_of_a_known_recording(speech) -> None:
    quality = measure(*speech)
    assert quality.duration_seconds == pytest.approx(5.333, abs=0.01)
    assert quality.peak_dbfs == pytest.approx(20 * np.log10(np.abs(speech[0]).max()), abs=0.01)
    assert quality.speech_seconds == pytest.approx(quality.duration_seconds * quality.speech_ratio, abs=0.01)


def test_silence_is_rejected(speech) -> None:
    reasons = rejection_reasons(measure(np.zeros(3 * speech[1], np.float32), speech[1]))
    assert len(reasons) == 1 and reasons[0].startswith("silence")


def test_a_third_of_a_second_is_too_short(speech) -> None:
    samples, rate = speech
    reasons = rejection_reasons(measure(samples[: int(0.3 * rate)], rate))
    assert len(reasons) == 1 and reasons[0].startswith("too short: 0.30 s")


def test_clipped_speech_is_rejected_and_scores_lower(speech) -> None:
    samples, rate = speech
    clipped = np.clip(samples * 4, -1, 1).astype(np.float32)
    quality = measure(clipped, rate)
    assert any(r.startswith("heavy clipping") for r in rejection_reasons(quality))
    assert quality.clipping_ratio > 0.01
    assert quality.score < measure(samples, rate).score


def test_white_noise_is_rejected_as_noise(speech) -> None:
    rate = speech[1]
    noise = (np.random.default_rng(1).standard_normal(4 * rate) * 0.2).astype(np.float32)
    quality = measure(noise, rate)
    reasons = rejection_reasons(quality)
    assert len(reasons) == 1 and reasons[0].startswith("too noisy")
    assert quality.snr_db < 5 and quality.score < 20


def test_speech_under_moderate_noise_is_kept_but_scored_lower(speech) -> None:
    samples, rate = speech
    noisy = (samples + np.random.default_rng(2).standard_normal(samples.size) * 0.05).astype(np.float32)
    quality = measure(noisy, rate)
    assert rejection_reasons(quality) == []
    assert quality.score < measure(samples, rate).score
