"""Decoding in a memory-capped child process (audio/isolation.py): same answers as in
process, bombs refused with the child's memory far under 1 GiB and the parent's unmoved, and
a child that runs out of memory, hangs or dies costs the file, not the worker."""

from __future__ import annotations

import io
import os
import resource
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.fixtures.bombs import flac_bomb, ogg_vorbis_bomb
from voxify_worker.audio import AudioError, decode
from voxify_worker.audio.isolation import IsolatedDecoder

GiB = 2**30


@pytest.fixture
def decoder() -> Iterator[IsolatedDecoder]:
    pool = IsolatedDecoder()
    yield pool
    pool.close()


def flac(samples: np.ndarray, rate: int) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format="FLAC")
    return buffer.getvalue()


def parent_peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def test_the_child_decodes_as_the_worker_would(decoder, speech) -> None:
    data = flac(*speech)
    samples, rate = decoder.decode(data, 300.0)
    expected, expected_rate = decode(data)
    assert rate == expected_rate and np.array_equal(samples, expected)
    decoder.decode(data, 300.0)
    assert decoder.starts == 1  # the child is kept for the next file
    assert 0 < decoder.last_start_seconds < 10
    assert 0 < decoder.last_peak_rss < 256 * 2**20


@pytest.mark.parametrize(
    "make, says",
    [
        (lambda: flac_bomb(), "the header says 43200 s"),
        (lambda: flac_bomb(block=65535, claimed_samples=0), "it decodes to more than 300 s"),
        (lambda: ogg_vorbis_bomb(), "the header says 43199 s"),
    ],
    ids=["flac-constant-12h", "flac-12h-length-unknown", "ogg-silence-12h"],
)
def test_bombs_are_refused_with_the_child_far_under_a_gibibyte(decoder, make, says) -> None:
    data = make()
    before = parent_peak_rss()
    with pytest.raises(AudioError) as caught:
        decoder.decode(data, 300.0)
    assert caught.value.code == "UNSUPPORTED_AUDIO" and says in str(caught.value)
    assert decoder.last_peak_rss < GiB // 4, f"child peak {decoder.last_peak_rss / 2**20:.0f} MiB"
    assert parent_peak_rss() - before < 64 * 2**20  # the parent never holds decoded audio
    decoder.decode(flac(np.full(16_000, 0.1, np.float32), 16_000), 300.0)
    assert decoder.starts == 1  # a clean refusal keeps the child


def test_a_child_out_of_memory_costs_the_file_not_the_worker(speech) -> None:
    """Five minutes of 48 kHz audio need ~110 MiB to decode; this child may take 24 MiB."""
    long_file = flac(np.resize(speech[0], 300 * 48_000 - 100), 48_000)
    small = IsolatedDecoder(memory_limit=24 * 2**20)
    try:
        with pytest.raises(AudioError) as caught:
            small.decode(long_file, 300.0)
        assert caught.value.code == "CORRUPT_AUDIO" and "memory" in str(caught.value), str(caught.value)
        samples, _ = small.decode(flac(*speech), 300.0)  # a fresh child takes the next file
        assert len(samples) == len(speech[0]) and small.starts == 2
    finally:
        small.close()


def test_a_child_that_hangs_or_dies_is_replaced(decoder, speech) -> None:
    data = flac(np.resize(speech[0], 200 * 48_000), 48_000)
    impatient = IsolatedDecoder(timeout=0.001)
    try:
        with pytest.raises(AudioError) as caught:
            impatient.decode(data, 300.0)
        assert caught.value.code == "CORRUPT_AUDIO" and "took longer than" in str(caught.value)
    finally:
        impatient.close()

    decoder.decode(flac(*speech), 300.0)
    (idle,) = decoder._idle
    os.kill(idle.process.pid, signal.SIGKILL)
    idle.process.wait()
    samples, _ = decoder.decode(flac(*speech), 300.0)
    assert len(samples) == len(speech[0]) and decoder.starts == 2


def test_the_child_loads_no_more_than_it_decodes_with(decoder, speech) -> None:
    decoder.decode(flac(*speech), 300.0)
    (idle,) = decoder._idle
    time.sleep(0.1)
    maps = Path(f"/proc/{idle.process.pid}/maps").read_text()
    assert "libsndfile" in maps and "libav" in maps
    for heavy in ("torch", "scipy", "pyworld", "webrtcvad", "lancedb", "soxr"):
        assert f"/{heavy}/" not in maps and f"/{heavy}.libs/" not in maps, heavy
