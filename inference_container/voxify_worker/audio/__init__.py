"""The worker's audio pipeline: decode uploads, post-process any engine's output, encode.

Typical use in the worker:
    samples, rate = decode_isolated(uploaded_bytes, max_seconds)  # untrusted: a capped child
    samples, rate = decode(reference_bytes)  # files the worker wrote itself
    result = engine.synthesize(...)
    ready = postprocess(result.audio, result.sample_rate,
                        pitch_semitones=job.pitch_semitones, volume=job.volume)
    body = encode(ready, result.sample_rate, job.output_format, job.sample_rate)
"""

from .decode import decode
from .encode import SUPPORTED_RATES, check_output, encode
from .errors import AudioError
from .isolation import decode_isolated
from .process import (
    DEFAULT_CEILING_DB,
    DEFAULT_LUFS,
    apply_volume,
    concatenate,
    limit,
    loudness,
    normalize_loudness,
    postprocess,
    resample,
    silence,
)
from .world import shift_pitch

__all__ = [
    "DEFAULT_CEILING_DB",
    "DEFAULT_LUFS",
    "SUPPORTED_RATES",
    "AudioError",
    "apply_volume",
    "check_output",
    "concatenate",
    "decode",
    "decode_isolated",
    "encode",
    "limit",
    "loudness",
    "normalize_loudness",
    "postprocess",
    "resample",
    "shift_pitch",
    "silence",
]
