"""Float samples -> the bytes of an audio file in the format and sample rate a job asked for.

All formats go through libsndfile (the soundfile 0.14 wheel bundles libsndfile 1.2.2, which
writes MP3 via LAME and Ogg Opus). "ogg" is Ogg Vorbis; "opus" is Ogg Opus, offered for callers that
ask for it by name. MP3 and Opus carry only the rates their standards define: asking for
another is refused with the list, rather than silently changed.
"""

from __future__ import annotations

import io

import numpy as np
import soundfile as sf

from voxify.domain.jobs import RATES_BY_FORMAT
from voxify.errors import ErrorCode

from .errors import AudioError
from .process import resample

SUPPORTED_RATES = RATES_BY_FORMAT  # the rates each format allows; re-exported by voxify_worker.audio

MIN_RATE, MAX_RATE = 8_000, 48_000

# format -> (libsndfile container, codec subtype)
_CODECS = {
    "wav": ("WAV", "PCM_16"),
    "flac": ("FLAC", "PCM_16"),
    "mp3": ("MP3", "MPEG_LAYER_III"),
    "ogg": ("OGG", "VORBIS"),
    "opus": ("OGG", "OPUS"),
}


def check_output(fmt: str, sample_rate: int) -> None:
    """Raise AudioError unless `fmt` at `sample_rate` can be encoded (cheap: validate early)."""
    if fmt not in _CODECS:
        raise AudioError(ErrorCode.UNSUPPORTED_FORMAT, f"cannot encode {fmt!r}; choose one of {sorted(_CODECS)}")
    if not MIN_RATE <= sample_rate <= MAX_RATE:
        raise AudioError(
            ErrorCode.UNSUPPORTED_SAMPLE_RATE, f"sample rate {sample_rate} Hz is outside {MIN_RATE}-{MAX_RATE} Hz"
        )
    allowed = SUPPORTED_RATES.get(fmt)
    if allowed and sample_rate not in allowed:
        rates = ", ".join(map(str, allowed))
        raise AudioError(ErrorCode.UNSUPPORTED_SAMPLE_RATE, f"{fmt} supports only {rates} Hz, not {sample_rate}")


def encode(samples: np.ndarray, rate: int, fmt: str, sample_rate: int) -> bytes:
    """Resample `samples` (at `rate`) to `sample_rate` and encode them as a `fmt` file."""
    check_output(fmt, sample_rate)
    container, subtype = _CODECS[fmt]
    data = np.clip(resample(samples, rate, sample_rate), -1.0, 1.0)
    buffer = io.BytesIO()
    sf.write(buffer, data, sample_rate, format=container, subtype=subtype)
    return buffer.getvalue()
