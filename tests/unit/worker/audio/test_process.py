"""Post-processing on real speech: resample, level, limit, silence, concatenate, postprocess."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import resample_poly

from voxify_worker.audio import (
    apply_volume,
    concatenate,
    limit,
    loudness,
    normalize_loudness,
    postprocess,
    resample,
    silence,
)


def _true_peak_db(samples: np.ndarray) -> float:
    return float(20 * np.log10(np.abs(resample_poly(samples.astype(np.float64), 4, 1)).max()))


def test_resample_keeps_frequency_and_duration() -> None:
    rate = 48_000
    tone = np.sin(2 * np.pi * 1000 * np.arange(rate) / rate).astype(np.float32)
    out = resample(tone, rate, 22_050)
    assert len(out) == 22_050
    spectrum = np.abs(np.fft.rfft(out))
    assert abs(np.argmax(spectrum) * 22_050 / len(out) - 1000) < 2


@pytest.mark.parametrize("target", [-16.0, -23.0])
def test_loudness_normalisation_lands_on_target(speech, target) -> None:
    samples, rate = speech
    assert abs(loudness(normalize_loudness(samples * 0.05, rate, target), rate) - target) < 0.5


def test_loudness_of_silence_and_of_a_short_clip(speech) -> None:
    samples, rate = speech
    quiet = np.zeros(rate, np.float32)
    assert np.array_equal(normalize_loudness(quiet, rate), quiet)
    short = samples[rate // 2 : rate // 2 + rate // 5]  # 200 ms, shorter than one BS.1770 block
    assert abs(loudness(normalize_loudness(short, rate, -20.0), rate) + 20.0) < 0.5


def test_volume_is_a_linear_factor(speech) -> None:
    samples, rate = speech
    assert abs(loudness(apply_volume(samples, 0.5), rate) - loudness(samples, rate) + 6.02) < 0.05
    assert not apply_volume(samples, 0.0).any()
    with pytest.raises(ValueError):
        apply_volume(samples, -1.0)


def test_limiter_keeps_peaks_below_the_ceiling(speech) -> None:
    samples, rate = speech
    hot = samples * (4.0 / np.abs(samples).max())  # peaks 12 dB over full scale
    limited = limit(hot, rate, ceiling_db=-1.0)
    assert np.abs(limited).max() <= 10 ** (-1 / 20) + 1e-6
    assert _true_peak_db(limited) < -0.5
    assert len(limited) == len(hot)


def test_limiter_leaves_quiet_audio_alone(speech) -> None:
    samples, rate = speech
    quiet = samples * (0.5 / np.abs(samples).max())
    assert np.allclose(limit(quiet, rate), quiet, atol=1e-6)


def test_silence_and_concatenation(speech) -> None:
    samples, rate = speech
    gap = silence(250, 24_000)
    assert len(gap) == 6000 and not gap.any() and gap.dtype == np.float32
    joined = concatenate([samples, silence(500, rate), samples])
    assert len(joined) == 2 * len(samples) + rate // 2
    assert concatenate([]).size == 0


def test_postprocess_sets_level_and_never_clips(speech) -> None:
    samples, rate = speech
    out = postprocess(samples, rate, pitch_semitones=2.0, volume=1.0, target_lufs=-16.0)
    assert abs(loudness(out, rate) + 16.0) < 1.0
    assert np.abs(out).max() <= 10 ** (-1 / 20) + 1e-6
    louder = postprocess(samples, rate, volume=2.0, target_lufs=-9.0)
    assert _true_peak_db(louder) < -0.5  # the limiter had work to do, and did it
    assert len(louder) == len(samples)
