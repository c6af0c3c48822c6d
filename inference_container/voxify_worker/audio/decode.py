"""Uploaded bytes -> float32 mono samples, whatever common container they arrive in, with a
bound on how much audio a file may hold.

The container is judged by content with the rule the API applies at upload
(`voxify.audio_format`), never by a file name, and the header is read first: a file that
promises more than `max_seconds` of audio (or is cut short, or holds no frames) is refused
before anything is decoded. Headers can lie or stay silent (a FLAC may leave its length
unknown), so decoding runs block by block, counting samples, and stops as soon as the count
passes the limit. Memory stays near max_seconds x rate x 4 bytes (mono float32) twice, plus a
decoding block: a 6 MiB FLAC of a constant signal holds 12 h, which read whole is 7.6 GB of
float32 (15 GB as libsndfile's float64 default).

libsndfile (soundfile) reads wav, flac, ogg and mp3 exactly and fast; FFmpeg (PyAV) reads
m4a/webm, streams whose length libsndfile cannot tell, and gets a second try at anything
libsndfile refuses, since it tolerates more real-world oddities (odd Ogg streams, ADTS AAC
that sniffs like MP3).

This module imports only numpy, soundfile, PyAV and voxify's light modules: the decoding
child process (isolation.py) imports it and nothing heavier.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable

import av
import numpy as np
import soundfile as sf

from voxify.audio_format import AudioHeader, AudioRefused, check_length, inspect_audio, too_long
from voxify.errors import ErrorCode

from .errors import AudioError

Decoded = tuple[np.ndarray, int]

# No sample may be longer (quality.MAX_SECONDS); callers pass their own, smaller limits.
DEFAULT_MAX_SECONDS = 300.0
MAX_SAMPLE_RATE = 192_000
MAX_CHANNELS = 32
BLOCK_SAMPLES = 1 << 18  # samples (all channels) decoded at a time: 1 MiB of float32
_UNKNOWN_LENGTH = 2**63 - 1  # what libsndfile reports for a stream without a length
_LIBSNDFILE_FORMATS = frozenset({"wav", "flac", "ogg", "mp3"})
_CONTAINER_LENGTHS = frozenset({"m4a", "webm"})  # where FFmpeg reads a length, not a guess
# what the decoder libraries raise for damaged input
_DECODE_ERRORS = (sf.SoundFileError, av.FFmpegError, RuntimeError, ValueError, EOFError, OverflowError)


class _TryAnother(Exception):
    """This decoder cannot judge the file; the next one may."""


def decode(data: bytes, max_seconds: float = DEFAULT_MAX_SECONDS) -> Decoded:
    """Return (samples, sample_rate): float32, mono (channels averaged), full scale 1.0.

    Raises AudioError UNSUPPORTED_AUDIO for content that is no known audio container or
    holds more than `max_seconds` of audio (said by its header or found while decoding), and
    CORRUPT_AUDIO for a known container that yields no usable samples (truncated, damaged,
    or needing more memory than the process may take).
    """
    header = _inspect(data, max_seconds)
    decoders: list[Callable[[bytes, float, str], Decoded]] = [_with_pyav]
    if header.format in _LIBSNDFILE_FORMATS:
        decoders.insert(0, _with_soundfile)
    problems = []
    for decoder in decoders:
        try:
            samples, rate = decoder(data, max_seconds, header.format)
        except MemoryError as exc:
            raise AudioError(
                ErrorCode.CORRUPT_AUDIO, f"looks like {header.format} but decoding it needs more memory than allowed"
            ) from exc
        except _TryAnother as exc:
            problems.append(str(exc))
            continue
        except _DECODE_ERRORS as exc:
            problems.append(plain_message(exc))
            continue
        if samples.size and rate > 0 and np.isfinite(samples).all():
            _check(samples.size / rate, max_seconds, "it decodes to")
            return samples, rate
        problems.append("no usable samples")
    raise AudioError(
        ErrorCode.CORRUPT_AUDIO, f"looks like {header.format} but does not decode: {'; '.join(dict.fromkeys(problems))}"
    )


def plain_message(exc: BaseException) -> str:
    """What a decoder library said, without Python object reprs or file names."""
    text = getattr(exc, "error_string", None) or getattr(exc, "strerror", None) or str(exc)
    text = re.sub(r"<[^<>]*\bat 0x[0-9a-fA-F]+>", "the file", str(text))
    text = re.sub(r"\[Errno -?\d+\]\s*", "", text)
    return text.strip().rstrip(".")[:200] or type(exc).__name__


def _inspect(data: bytes, max_seconds: float) -> AudioHeader:
    try:
        return inspect_audio(data, max_seconds)
    except AudioRefused as refused:
        raise AudioError(refused.code, refused.message) from None


def _check(seconds: float | None, max_seconds: float, source: str) -> None:
    try:
        check_length(seconds, max_seconds, source)
    except AudioRefused as refused:
        raise AudioError(refused.code, refused.message) from None


def _check_shape(rate: int, channels: int) -> None:
    if rate <= 0 or channels <= 0:
        raise _TryAnother("no sample rate or channels")
    if rate > MAX_SAMPLE_RATE:
        raise AudioError(ErrorCode.UNSUPPORTED_AUDIO, f"a sample rate of {rate} Hz is over {MAX_SAMPLE_RATE} Hz")
    if channels > MAX_CHANNELS:
        raise AudioError(ErrorCode.UNSUPPORTED_AUDIO, f"{channels} channels are more than {MAX_CHANNELS}")


class _Pcm:
    """Mono blocks as they are decoded, refused once they pass the limit."""

    def __init__(self, rate: int, max_seconds: float) -> None:
        self.rate, self.max_seconds = rate, max_seconds
        self.limit = int(max_seconds * rate)
        self.parts: list[np.ndarray] = []
        self.count = 0

    def add(self, mono: np.ndarray) -> None:
        self.count += len(mono)
        if self.count > self.limit:
            self.parts.clear()
            raise AudioError(
                ErrorCode.UNSUPPORTED_AUDIO,
                too_long(self.max_seconds, f"it decodes to more than {self.max_seconds:.0f} s"),
            )
        self.parts.append(mono.astype(np.float32, copy=False))

    def samples(self) -> np.ndarray:
        parts, self.parts = self.parts, []
        return np.concatenate(parts) if parts else np.zeros(0, np.float32)


def _with_soundfile(data: bytes, max_seconds: float, fmt: str) -> Decoded:
    with sf.SoundFile(io.BytesIO(data)) as f:
        rate, channels, frames = int(f.samplerate), int(f.channels), int(f.frames)
        _check_shape(rate, channels)
        if frames >= _UNKNOWN_LENGTH:  # reading on would fail on libsndfile's own seek
            raise _TryAnother("libsndfile cannot tell its length")
        if fmt != "mp3":  # libsndfile guesses an MP3's length from its first frame's bitrate
            _check(frames / rate, max_seconds, "its header says")
        pcm = _Pcm(rate, max_seconds)
        block = np.empty((max(1, BLOCK_SAMPLES // channels), channels), np.float32)
        while True:
            got = f.read(out=block)
            if len(got):
                pcm.add(got.mean(axis=1, dtype=np.float32))
            if len(got) < len(block):
                break
    return pcm.samples(), rate


def _with_pyav(data: bytes, max_seconds: float, fmt: str) -> Decoded:
    with av.open(io.BytesIO(data), mode="r") as container:
        if not container.streams.audio:
            raise AudioError(ErrorCode.UNSUPPORTED_AUDIO, "the file holds no audio stream")
        stream = container.streams.audio[0]
        if stream.codec_context is not None:  # None for a codec FFmpeg does not know
            stream.codec_context.thread_count = 1  # audio decodes fast; threads only cost memory
        if fmt in _CONTAINER_LENGTHS and container.duration:
            _check(container.duration / av.time_base, max_seconds, "its header says")
        # planar float keeps every channel apart, so the downmix below is a plain average
        to_float = av.AudioResampler(format="fltp")
        pcm: _Pcm | None = None
        for frame in container.decode(stream):
            if pcm is None:
                _check_shape(frame.sample_rate, len(frame.layout.channels))
                pcm = _Pcm(frame.sample_rate, max_seconds)
            for converted in to_float.resample(frame):
                pcm.add(converted.to_ndarray().mean(axis=0))
        if pcm is None:
            return np.zeros(0, np.float32), 0
        for converted in to_float.resample(None):
            pcm.add(converted.to_ndarray().mean(axis=0))
    return pcm.samples(), pcm.rate
