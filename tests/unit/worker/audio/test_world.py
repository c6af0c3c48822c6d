"""Pitch shifting through WORLD on real speech."""

from __future__ import annotations

import numpy as np
import pytest

from tests.fixtures.speech import median_f0
from voxify_worker.audio import shift_pitch


@pytest.mark.parametrize("semitones", [4.0, -4.0])
def test_pitch_shift_moves_f0_by_the_asked_interval(speech, semitones) -> None:
    samples, rate = speech
    shifted = shift_pitch(samples, rate, semitones)
    assert len(shifted) == len(samples)
    ratio = median_f0(shifted, rate) / median_f0(samples, rate)
    assert abs(12 * np.log2(ratio) - semitones) < 0.5


def test_no_pitch_shift_leaves_samples_untouched(speech) -> None:
    samples, rate = speech
    assert np.array_equal(shift_pitch(samples, rate, 0.0), samples)
