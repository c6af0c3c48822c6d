"""What the audio tests share: eSpeak NG reading a sentence (test_quality.py uses recorded
speech under the same name instead)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.fixtures.speech import espeak_speech


@pytest.fixture(scope="module")
def speech() -> tuple[np.ndarray, int]:
    return espeak_speech()
