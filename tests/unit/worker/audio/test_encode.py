"""Encoding real speech into every output format, and the formats and rates refused."""

from __future__ import annotations

import pytest

from voxify.storage import CONTENT_TYPES
from voxify_worker.audio import AudioError, decode, encode, loudness

SIGNATURES = {"wav": (b"RIFF",), "flac": (b"fLaC",), "ogg": (b"OggS",), "opus": (b"OggS",), "mp3": (b"ID3", b"\xff")}


@pytest.mark.parametrize(
    "fmt, sample_rate",
    [
        ("wav", 8_000),
        ("wav", 44_100),
        ("flac", 37_000),
        ("ogg", 24_000),
        ("ogg", 11_025),
        ("mp3", 24_000),
        ("mp3", 48_000),
        ("opus", 48_000),
        ("opus", 16_000),
    ],
)
def test_encoded_files_decode_with_the_asked_format_and_rate(speech, fmt, sample_rate) -> None:
    samples, rate = speech
    data = encode(samples, rate, fmt, sample_rate)
    assert data.startswith(SIGNATURES[fmt])
    assert CONTENT_TYPES[fmt].startswith("audio/")
    decoded, decoded_rate = decode(data)
    assert decoded_rate == sample_rate
    assert abs(len(decoded) / decoded_rate - len(samples) / rate) < 0.1
    assert abs(loudness(decoded, decoded_rate) - loudness(samples, rate)) < 1.5


@pytest.mark.parametrize("fmt, sample_rate", [("opus", 22_050), ("mp3", 30_000), ("wav", 7_999), ("flac", 48_001)])
def test_encode_refuses_rates_the_format_cannot_carry(speech, fmt, sample_rate) -> None:
    with pytest.raises(AudioError) as caught:
        encode(*speech, fmt, sample_rate)
    assert caught.value.code == "UNSUPPORTED_SAMPLE_RATE"


def test_encode_refuses_unknown_formats(speech) -> None:
    with pytest.raises(AudioError) as caught:
        encode(*speech, "aac", 24_000)
    assert caught.value.code == "UNSUPPORTED_FORMAT"
