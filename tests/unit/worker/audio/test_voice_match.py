"""Moving speech toward a speaker through WORLD keeps its level and never clips."""

from __future__ import annotations

import dataclasses

import numpy as np

from voxify_worker.audio.voice_match import VoiceMatch, source_profile


def test_a_match_that_raises_peaks_stays_below_full_scale(speech) -> None:
    samples, rate = speech
    loud = (0.98 * samples / np.abs(samples).max()).astype(np.float32)
    source = source_profile(loud, rate)
    assert source is not None
    # a target the same speaker with a strongly boosted treble: sharper peaks at the same level
    bins = len(source.log_envelope)
    tilted = dataclasses.replace(source, log_envelope=source.log_envelope + np.linspace(-1.4, 1.4, bins))
    matched = VoiceMatch.plan(source, tilted, rate).apply(loud, rate)
    assert np.abs(matched).max() <= 0.99
    assert np.sqrt(np.mean(matched**2)) > 0.5 * np.sqrt(np.mean(loud**2))
