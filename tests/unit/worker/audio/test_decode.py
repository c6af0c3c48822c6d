"""Decoding uploads on real speech: what libsndfile, phones and browsers write, what is not
audio, and decoder bombs (tests/fixtures/bombs.py): small files of hours of silence or a
constant, and headers that lie about the length."""

from __future__ import annotations

import io
import tracemalloc

import av
import numpy as np
import pytest
import soundfile as sf

from tests.fixtures.bombs import flac_bomb, mp3_of_silence, ogg_vorbis_bomb, one_sample_wav, wav_header_claiming
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


# ---- decoder bombs: refused from the header, or by counting while decoding (audio/decode.py)


def _peak_traced(work) -> tuple[object, int]:
    """What `work` returned or raised, and the most memory numpy and Python held meanwhile."""
    tracemalloc.start()
    try:
        try:
            result: object = work()
        except AudioError as error:
            result = error
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    "make, code, says",
    [
        (lambda: flac_bomb(), "UNSUPPORTED_AUDIO", "the header says 43200 s"),  # the issue's 6 MiB file
        (lambda: flac_bomb(block=65535, claimed_samples=0), "UNSUPPORTED_AUDIO", "it decodes to more than 300 s"),
        (lambda: ogg_vorbis_bomb(), "UNSUPPORTED_AUDIO", "the header says 43199 s"),
        (lambda: wav_header_claiming(2**31, b"\x80" * 16_000), "UNSUPPORTED_AUDIO", "the header says 268435 s"),
        (lambda: mp3_of_silence(400), "UNSUPPORTED_AUDIO", "the header says 400 s"),
        (lambda: one_sample_wav(), "CORRUPT_AUDIO", "no playable audio"),
    ],
    ids=["flac-constant-12h", "flac-12h-length-unknown", "ogg-silence-12h", "wav-claiming-2^31", "mp3-400s", "wav-1"],
)
def test_bombs_are_refused_without_decoding_them_whole(make, code, says) -> None:
    data = make()
    refusal, peak = _peak_traced(lambda: decode(data))
    assert isinstance(refusal, AudioError), refusal
    assert refusal.code == code and says in str(refusal), str(refusal)
    # at most the limit's worth of mono float32 (300 s x 44.1 kHz x 4 B = 53 MB), never the hours
    assert peak < 80 * 2**20, f"{peak / 2**20:.0f} MiB"


def test_the_issues_bomb_is_what_it_says() -> None:
    data = flac_bomb()
    assert 6 * 2**20 <= len(data) <= 6.5 * 2**20
    assert sf.info(io.BytesIO(data)).duration == pytest.approx(12 * 3600, abs=1)


def test_a_header_that_understates_its_length_is_read_no_further() -> None:
    """libsndfile stops where STREAMINFO says the stream ends; what follows is never decoded."""
    data = flac_bomb(seconds=3600, rate=16_000, block=65535, claimed_samples=10 * 16_000)
    (samples, rate), peak = _peak_traced(lambda: decode(data))
    assert rate == 16_000 and len(samples) == 10 * 16_000
    assert peak < 16 * 2**20


def test_decoding_stops_at_the_callers_limit(speech) -> None:
    samples, rate = speech
    data = _file(samples, rate, "FLAC", "PCM_16")
    assert len(decode(data, max_seconds=len(samples) / rate + 1)[0]) == len(samples)
    with pytest.raises(AudioError) as caught:
        decode(data, max_seconds=1.0)
    assert caught.value.code == "UNSUPPORTED_AUDIO" and "at most 1 s" in str(caught.value)
    with pytest.raises(AudioError) as unknown:  # no length in the header: counted while decoding
        decode(flac_bomb(seconds=60, rate=16_000, claimed_samples=0), max_seconds=30.0)
    assert "it decodes to more than 30 s" in str(unknown.value)


def test_a_stream_without_a_length_is_counted_while_decoding() -> None:
    """ADTS AAC says no length anywhere (and sniffs like MP3): FFmpeg decodes it frame by
    frame until the count passes the limit."""
    silence = np.zeros(60 * 16_000, np.float32)
    data = _ffmpeg_file(silence, 16_000, "adts", "aac")
    with pytest.raises(AudioError) as caught:
        decode(data, max_seconds=20.0)
    assert caught.value.code == "UNSUPPORTED_AUDIO" and "it decodes to more than 20 s" in str(caught.value)


def test_absurd_rates_and_channel_counts_are_unsupported() -> None:
    for rate, channels in ((384_000, 1), (16_000, 64)):
        data = wav_header_claiming(8000, b"\0" * 8000 * channels, rate=rate, channels=channels)
        with pytest.raises(AudioError) as caught:
            decode(data)
        assert caught.value.code == "UNSUPPORTED_AUDIO", str(caught.value)


def test_error_messages_show_no_python_reprs() -> None:
    wav = bytearray(_file(np.zeros(16_000, np.float32), 16_000, "WAV", "PCM_16"))
    wav[20:22] = b"\x34\x12"  # a format tag no decoder knows
    with pytest.raises(AudioError) as caught:
        decode(bytes(wav))
    message = str(caught.value)
    assert caught.value.code == "CORRUPT_AUDIO"
    assert "0x" not in message and "<" not in message and "BytesIO" not in message, message
