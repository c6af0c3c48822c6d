"""Decoding uploads on real speech: what libsndfile, phones and browsers write, and what is not audio."""

from __future__ import annotations

import io

import av
import numpy as np
import pytest
import soundfile as sf

from voxify_worker.audio import AudioError, decode, loudness, resample


def _file(samples: np.ndarray, rate: int, fmt: str, subtype: str) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format=fmt, subtype=subtype)
    return buffer.getvalue()


def _ffmpeg_file(samples: np.ndarray, rate: int, container: str, codec: str) -> bytes:
    """Stereo file written by FFmpeg (m4a/AAC, webm/Opus): what phones and browsers upload."""
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=container) as out:
        stream = out.add_stream(codec, rate=rate, layout="stereo")
        stereo = np.ascontiguousarray(np.stack([samples, samples]).astype(np.float32))
        frame = av.AudioFrame.from_ndarray(stereo, format="fltp", layout="stereo")
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "fmt, subtype, lossless",
    [
        ("WAV", "PCM_16", True),
        ("FLAC", "PCM_24", True),
        ("OGG", "VORBIS", False),
        ("MP3", "MPEG_LAYER_III", False),
    ],
)
def test_decode_reads_what_libsndfile_writes(speech, fmt, subtype, lossless) -> None:
    samples, rate = speech
    decoded, decoded_rate = decode(_file(samples, rate, fmt, subtype))
    assert decoded_rate == rate and decoded.dtype == np.float32 and decoded.ndim == 1
    assert abs(len(decoded) - len(samples)) < 0.05 * rate
    if lossless:
        assert np.abs(decoded - samples).max() < 1e-4
    assert abs(loudness(decoded, rate) - loudness(samples, rate)) < 1.0


@pytest.mark.parametrize("container, codec, rate", [("mp4", "aac", 44_100), ("webm", "libopus", 48_000)])
def test_decode_reads_phone_and_browser_recordings(speech, container, codec, rate) -> None:
    samples = resample(*speech, rate)
    decoded, decoded_rate = decode(_ffmpeg_file(samples, rate, container, codec))
    assert decoded_rate == rate and decoded.ndim == 1  # stereo averaged to mono
    assert abs(len(decoded) - len(samples)) < 0.1 * rate
    assert abs(loudness(decoded, rate) - loudness(samples, rate)) < 1.0


def test_decode_averages_channels(speech) -> None:
    samples, rate = speech
    stereo = np.stack([samples, np.zeros_like(samples)], axis=1)
    decoded, _ = decode(_file(stereo, rate, "WAV", "FLOAT"))
    assert np.allclose(decoded, samples / 2, atol=1e-6)


@pytest.mark.parametrize(
    "data", [b"", b"hello, this is a text file named voice.wav\n" * 20, b"<html><body>not audio</body></html>"]
)
def test_decode_refuses_what_is_not_audio(data) -> None:
    with pytest.raises(AudioError) as caught:
        decode(data)
    assert caught.value.code == "UNSUPPORTED_AUDIO"


@pytest.mark.parametrize(
    "fmt, subtype, keep",
    [
        ("WAV", "PCM_16", 30),
        ("FLAC", "PCM_16", 200),
        ("OGG", "VORBIS", 300),
        ("MP3", "MPEG_LAYER_III", 60),
    ],
)
def test_decode_reports_truncated_files_as_corrupt(speech, fmt, subtype, keep) -> None:
    data = _file(*speech, fmt, subtype)
    with pytest.raises(AudioError) as caught:
        decode(data[:keep])
    assert caught.value.code == "CORRUPT_AUDIO"


def test_decode_reports_garbage_behind_an_audio_signature_as_corrupt() -> None:
    rng = np.random.default_rng(1)
    with pytest.raises(AudioError) as caught:
        decode(b"fLaC" + rng.bytes(5000))
    assert caught.value.code == "CORRUPT_AUDIO"
