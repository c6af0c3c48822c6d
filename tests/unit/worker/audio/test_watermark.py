"""The PerTh watermark on real speech: marked audio is found, the original is not, and marking
changes neither length nor level."""

import numpy as np

from tests.fixtures.worker import reference_speech
from voxify_worker.audio import decode, loudness
from voxify_worker.audio.watermark import Watermarker


def test_marked_speech_is_found_and_the_original_is_not():
    speech, rate = decode(reference_speech())
    watermarker = Watermarker()
    marked = watermarker.mark(speech, rate)
    assert marked.shape == speech.shape and marked.dtype == np.float32
    assert abs(loudness(marked, rate) - loudness(speech, rate)) < 0.5
    found, original = watermarker.detect(marked, rate), watermarker.detect(speech, rate)
    assert found.marked and found.confidence > 0.95
    assert not original.marked and original.confidence < 0.1
    assert watermarker.watermark.scheme == "perth-implicit"


def test_empty_and_very_short_audio_keep_their_length():
    watermarker = Watermarker()
    assert watermarker.mark(np.zeros(0, np.float32), 24_000).size == 0
    assert watermarker.mark(np.full(100, 0.1, np.float32), 24_000).size == 100  # under one analysis frame
    assert not watermarker.detect(np.zeros(0, np.float32), 24_000).marked
