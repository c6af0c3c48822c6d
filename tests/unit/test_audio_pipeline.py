"""The worker's audio pipeline on real speech: decode, resample, level, limit, pitch, encode."""

from __future__ import annotations

import io

import av
import numpy as np
import pytest
import soundfile as sf
from scipy.signal import resample_poly

from tests.fixtures.speech import espeak_speech, median_f0
from voxify.storage import CONTENT_TYPES
from voxify_worker.audio import (
    AudioError,
    apply_volume,
    concatenate,
    decode,
    encode,
    limit,
    loudness,
    normalize_loudness,
    postprocess,
    resample,
    shift_pitch,
    silence,
)


@pytest.fixture(scope="module")
def speech() -> tuple[np.ndarray, int]:
    return espeak_speech()


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


def _true_peak_db(samples: np.ndarray) -> float:
    return float(20 * np.log10(np.abs(resample_poly(samples.astype(np.float64), 4, 1)).max()))


# --- decode -------------------------------------------------------------------------------------


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


# --- processing ---------------------------------------------------------------------------------


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


# --- encode -------------------------------------------------------------------------------------

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
