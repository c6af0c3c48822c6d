"""Reading what an upload's header promises, without audio libraries (voxify.audio_format).

Real files come from libsndfile and FFmpeg; the bad ones are cut, padded with garbage or
written by hand (tests/fixtures/bombs.py). Refusals: CORRUPT_AUDIO for what cannot play,
UNSUPPORTED_AUDIO for what is not audio or holds more than the limit.
"""

from __future__ import annotations

import io
import struct

import av
import numpy as np
import pytest
import soundfile as sf

from tests.fixtures.bombs import (
    flac_bomb,
    mp3_of_silence,
    ogg_vorbis_bomb,
    one_sample_wav,
    wav_header_claiming,
)
from voxify.audio_format import AudioRefused, inspect_audio, sniff_audio_format
from voxify.errors import ErrorCode

RATE = 16_000
TONE = (0.3 * np.sin(2 * np.pi * 220 * np.arange(2 * RATE) / RATE)).astype(np.float32)  # 2 s
LIMIT = 300.0


def libsndfile(fmt: str, subtype: str, seconds: float = 2.0, rate: int = RATE, channels: int = 1) -> bytes:
    samples = np.resize(TONE, int(seconds * rate))
    if channels > 1:
        samples = np.stack([samples] * channels, axis=1)
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format=fmt, subtype=subtype)
    return buffer.getvalue()


def ffmpeg(container: str, codec: str, rate: int = 48_000) -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=container) as out:
        stream = out.add_stream(codec, rate=rate, layout="mono")
        frame = av.AudioFrame.from_ndarray(np.resize(TONE, (1, 2 * rate)), format="fltp", layout="mono")
        frame.sample_rate = rate
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(packet)
    return buffer.getvalue()


FLAC = libsndfile("FLAC", "PCM_16")  # STREAMINFO, VORBIS_COMMENT, frames


def id3_tag(size: int = 300) -> bytes:
    syncsafe = bytes((size >> shift) & 0x7F for shift in (21, 14, 7, 0))
    return b"ID3\x04\x00\x00" + syncsafe + b"\0" * size


def refused(data: bytes, max_seconds: float = LIMIT) -> AudioRefused:
    with pytest.raises(AudioRefused) as caught:
        inspect_audio(data, max_seconds)
    assert "0x" not in caught.value.message and "<" not in caught.value.message  # plain words
    return caught.value


@pytest.mark.parametrize(
    "data, fmt, rate, channels, seconds",
    [
        (libsndfile("WAV", "PCM_16"), "wav", RATE, 1, 2.0),
        (libsndfile("WAV", "FLOAT", channels=2), "wav", RATE, 2, 2.0),
        (libsndfile("FLAC", "PCM_24", rate=44_100), "flac", 44_100, 1, 2.0),
        (libsndfile("OGG", "VORBIS"), "ogg", RATE, 1, 2.0),
        (libsndfile("MP3", "MPEG_LAYER_III", rate=44_100), "mp3", 44_100, 1, 2.0),
        (id3_tag() + libsndfile("MP3", "MPEG_LAYER_III", rate=22_050), "mp3", 22_050, 1, 2.0),
        (mp3_of_silence(2.0), "mp3", 8000, 1, 2.0),
        (ffmpeg("ogg", "libopus"), "ogg", 48_000, 1, 2.0),
    ],
    ids=["wav", "wav-float-stereo", "flac", "ogg-vorbis", "mp3", "mp3-after-id3", "mp3-8k", "ogg-opus"],
)
def test_real_files_pass_and_say_what_they_hold(data, fmt, rate, channels, seconds) -> None:
    header = inspect_audio(data, LIMIT)
    assert (header.format, header.sample_rate, header.channels) == (fmt, rate, channels)
    assert header.seconds == pytest.approx(seconds, abs=0.2)  # MP3 counts whole frames


@pytest.mark.parametrize(
    "data, fmt",
    [
        (ffmpeg("mp4", "aac", 44_100), "m4a"),
        (ffmpeg("webm", "libopus"), "webm"),
        (ffmpeg("adts", "aac", 44_100), "mp3"),  # ADTS AAC sniffs like MP3; its frames chain
        (id3_tag() + libsndfile("FLAC", "PCM_16"), "flac"),
        (flac_bomb(seconds=3600, claimed_samples=0), "flac"),  # FLAC may leave its length unknown
    ],
    ids=["m4a", "webm", "adts-aac", "flac-after-id3", "flac-unknown-length"],
)
def test_files_that_do_not_say_their_length_pass(data, fmt) -> None:
    assert inspect_audio(data, LIMIT).format == fmt


def test_a_streamed_wav_is_measured_by_the_bytes_it_holds() -> None:
    data = bytearray(libsndfile("WAV", "PCM_16"))
    data[4:8] = data[40:44] = b"\xff\xff\xff\xff"  # RIFF and data sizes a stream cannot know
    assert inspect_audio(bytes(data), LIMIT).seconds == pytest.approx(2.0)


@pytest.mark.parametrize(
    "data, needle",
    [
        (libsndfile("WAV", "PCM_16")[:30], "cut short"),  # inside the format chunk
        (libsndfile("WAV", "PCM_16")[:40], "cut short"),  # before the data chunk's header ends
        (libsndfile("WAV", "PCM_16")[:45], "no audio"),  # half a frame of data
        (one_sample_wav(), "no playable audio"),
        (b"RIFF\x24\x00\x00\x00WAVEdata\x00\x10\x00\x00" + b"\0" * 64, "no format chunk"),
        (b"fLaC" + np.random.default_rng(5).integers(0, 256, 4000, dtype=np.uint8).tobytes(), "STREAMINFO"),
        (libsndfile("FLAC", "PCM_16")[:20], "STREAMINFO"),
        (FLAC[: FLAC.index(b"\xff\xf8", 42)], "no audio frames"),  # the metadata, whole, and nothing else
        (FLAC[:60], "metadata is cut short"),  # inside the VORBIS_COMMENT block
        (b"fLaC\x00" + flac_bomb(seconds=10)[5:42] + b"\x81\x00\x10\x00" + b"\0" * 64, "cut short"),
        (b"\xff\xfb\x90\x64" + np.random.default_rng(7).integers(0, 256, 5000, dtype=np.uint8).tobytes(), "frames"),
        (libsndfile("MP3", "MPEG_LAYER_III", rate=44_100)[:300], "cut short"),
        (id3_tag() + b"\xff\xfb\x90\x64", "cut short"),
        (id3_tag(), "no audio"),
        (id3_tag()[:8], "cut short"),
        (b"OggS\x00\x02" + b"\0" * 20 + b"\x01\xff" + b"\0" * 30, "cut short"),
    ],
    ids=[
        "wav-cut-in-fmt",
        "wav-cut-in-data-header",
        "wav-half-a-frame",
        "wav-one-sample",
        "wav-without-fmt",
        "flac-garbage",
        "flac-cut-in-streaminfo",
        "flac-no-frames",
        "flac-comment-cut",
        "flac-padding-cut",
        "mp3-header-over-garbage",
        "mp3-one-cut-frame",
        "mp3-tag-then-cut-frame",
        "mp3-tag-only",
        "mp3-tag-cut",
        "ogg-page-cut",
    ],
)
def test_files_that_cannot_play_are_corrupt(data, needle) -> None:
    assert sniff_audio_format(data[:64]) is not None  # each looks like audio at first
    refusal = refused(data)
    assert refusal.code == ErrorCode.CORRUPT_AUDIO and needle in refusal.message, refusal.message


@pytest.mark.parametrize(
    "data, claimed",
    [
        (flac_bomb(seconds=12 * 3600, block=65535), "43200 s"),
        (ogg_vorbis_bomb(seconds=12 * 3600), "43199 s"),
        (wav_header_claiming(2**31, b"\x80" * 16_000), "268435 s"),
        (mp3_of_silence(400), "400 s"),  # LAME's Info frame counts the frames
    ],
    ids=["flac-constant-12h", "ogg-silence-12h", "wav-claiming-2^31-frames", "mp3-info-400s"],
)
def test_more_audio_than_allowed_is_unsupported(data, claimed) -> None:
    refusal = refused(data)
    assert refusal.code == ErrorCode.UNSUPPORTED_AUDIO
    assert refusal.message.startswith(f"too long: the header says {claimed}") and "at most 300 s" in refusal.message


def test_the_limit_is_the_callers() -> None:
    data = libsndfile("FLAC", "PCM_16", seconds=40)
    assert inspect_audio(data, 300.0).seconds == pytest.approx(40.0)
    assert refused(data, 30.0).code == ErrorCode.UNSUPPORTED_AUDIO


def test_an_ogg_stream_is_measured_by_its_own_last_page() -> None:
    """A lie in the last granule position is what players read too; the decoder counts."""
    assert inspect_audio(ogg_vorbis_bomb(seconds=600, claimed_seconds=5), LIMIT).seconds == pytest.approx(5.0)
    vorbis = bytearray(libsndfile("OGG", "VORBIS", seconds=60))
    last = bytes(vorbis).rfind(b"OggS")
    vorbis[last + 14 : last + 18] = struct.pack("<I", 12345)  # the last page is another stream's
    seconds = inspect_audio(bytes(vorbis), LIMIT).seconds  # (its checksum is wrong: not read)
    assert seconds is not None and 50 < seconds < 60


def test_not_audio_is_unsupported() -> None:
    for data in (b"", b"hello, this is text\n" * 20, b"<html></html>"):
        assert refused(data).code == ErrorCode.UNSUPPORTED_AUDIO
