"""The speaker encoder on real speech: one voice stays close to itself, voices stay apart.

The recordings are the ones shipped in the f5-tts wheel: basic_ref_en.wav and three
different narrators in multi/ (main, town, country). These scores are what the default
impersonation threshold (0.70) was chosen between.
"""

import itertools

import numpy as np
import pytest

from tests.fixtures.worker import other_speaker_flac, reference_speech
from voxify.settings import get_settings
from voxify_worker.audio import decode
from voxify_worker.embeddings.encoder import EMBEDDING_SIZE, SpeakerEncoder, mean_embedding, similarity

RECORDINGS = {
    "en": reference_speech,
    "main": lambda: other_speaker_flac("main.flac"),
    "town": other_speaker_flac,
    "country": lambda: other_speaker_flac("country.flac"),
}


@pytest.fixture(scope="module")
def encoder() -> SpeakerEncoder:
    return SpeakerEncoder("cpu")


@pytest.fixture(scope="module")
def halves(encoder) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each recording's first and second half, embedded separately."""
    embedded = {}
    for name, load in RECORDINGS.items():
        samples, rate = decode(load())
        middle = len(samples) // 2
        embedded[name] = (encoder.embed(samples[:middle], rate), encoder.embed(samples[middle:], rate))
    return embedded


def test_embeddings_are_256_d_unit_vectors(halves) -> None:
    for first, _second in halves.values():
        assert first.shape == (EMBEDDING_SIZE,) and first.dtype == np.float32
        assert np.linalg.norm(first) == pytest.approx(1.0, abs=1e-3)


def test_halves_of_one_recording_are_closer_than_two_speakers(halves) -> None:
    same = {name: similarity(*pair) for name, pair in halves.items()}
    different = {(a, b): similarity(halves[a][0], halves[b][1]) for a, b in itertools.permutations(halves, 2)}
    assert min(same.values()) > max(different.values()), (same, different)
    threshold = get_settings().impersonation_threshold
    assert min(same.values()) >= threshold > max(different.values())


def test_a_voice_from_several_samples_stays_that_voice(halves) -> None:
    town = mean_embedding(list(halves["town"]))
    assert np.linalg.norm(town) == pytest.approx(1.0, abs=1e-5)
    assert similarity(town, halves["town"][0]) > similarity(town, halves["country"][0])
