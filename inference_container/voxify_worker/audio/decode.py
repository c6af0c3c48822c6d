"""Uploaded bytes -> float32 mono samples, whatever common container they arrive in.

The container is judged by content with the same rule the API applies at upload
(`voxify.audio_format`), never by a file name. libsndfile (soundfile) reads wav, flac, ogg and
mp3 exactly and fast; FFmpeg (PyAV) reads m4a/webm and gets a second try at anything libsndfile
refuses, since it tolerates more real-world oddities (odd Ogg streams, ADTS AAC that sniffs
like MP3).
"""

from __future__ import annotations

import io
from collections.abc import Callable

import av
import numpy as np
import soundfile as sf

from voxify.audio_format import sniff_audio_format
from voxify.errors import ErrorCode

from .errors import AudioError

Decoded = tuple[np.ndarray, int]

_LIBSNDFILE_FORMATS = frozenset({"wav", "flac", "ogg", "mp3"})
# what the decoder libraries raise for damaged input
_DECODE_ERRORS = (sf.SoundFileError, av.FFmpegError, RuntimeError, ValueError, EOFError)


def decode(data: bytes) -> Decoded:
    """Return (samples, sample_rate): float32, mono (channels averaged), full scale 1.0.

    Raises AudioError UNSUPPORTED_AUDIO for content that is no known audio container, and
    CORRUPT_AUDIO for a known container that yields no usable samples (truncated, damaged).
    """
    fmt = sniff_audio_format(data[:64])
    if fmt is None:
        raise AudioError(
            ErrorCode.UNSUPPORTED_AUDIO, "not a wav, mp3, flac, ogg, m4a or webm file (judged by its content)"
        )
    decoders: list[Callable[[bytes], Decoded]] = [_with_pyav]
    if fmt in _LIBSNDFILE_FORMATS:
        decoders.insert(0, _with_soundfile)
    problems = []
    for decoder in decoders:
        try:
            samples, rate = decoder(data)
        except _DECODE_ERRORS as exc:
            problems.append(str(exc))
            continue
        if samples.size and rate > 0 and np.isfinite(samples).all():
            return samples, rate
        problems.append("no usable samples")
    raise AudioError(
        ErrorCode.CORRUPT_AUDIO, f"looks like {fmt} but does not decode: {'; '.join(dict.fromkeys(problems))}"
    )


def _with_soundfile(data: bytes) -> Decoded:
    samples, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    return samples.mean(axis=1, dtype=np.float32), int(rate)


def _with_pyav(data: bytes) -> Decoded:
    with av.open(io.BytesIO(data), mode="r") as container:
        if not container.streams.audio:
            raise AudioError(ErrorCode.UNSUPPORTED_AUDIO, "the file holds no audio stream")
        stream = container.streams.audio[0]
        # planar float keeps every channel apart, so the downmix below is a plain average
        to_float = av.AudioResampler(format="fltp")
        parts: list[np.ndarray] = []
        rate = 0
        for frame in container.decode(stream):
            rate = rate or frame.sample_rate
            parts.extend(f.to_ndarray().mean(axis=0) for f in to_float.resample(frame))
        parts.extend(f.to_ndarray().mean(axis=0) for f in to_float.resample(None))
    samples = np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, np.float32)
    return samples, rate
