"""Sample-level processing shared by every engine: rate, loudness, gain, limiting, joining.

Conventions: samples are float32 mono numpy arrays; volume is a linear factor (the job's
`volume` 0..2, 1 = unchanged); loudness is integrated loudness per ITU-R BS.1770 (LUFS);
the limiter's ceiling is in dBFS, measured on a 4x oversampled signal so inter-sample
peaks are caught too ("true-peak-ish").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pyloudnorm
import soxr
from scipy.ndimage import minimum_filter1d, uniform_filter1d
from scipy.signal import resample_poly

from .world import shift_pitch

DEFAULT_LUFS = -16.0  # spoken-word streaming level (podcasts, voice assistants)
DEFAULT_CEILING_DB = -1.0
_BS1770_BLOCK_S = 0.4
_LIMITER_HOLD_S = 0.010
# how `postprocess` sets loudness: (samples, rate) -> the samples at their level
Leveller = Callable[[np.ndarray, int], np.ndarray]


def resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Band-limited rate conversion (libsoxr, high quality)."""
    if from_rate == to_rate:
        return samples.astype(np.float32, copy=False)
    resampled: np.ndarray = soxr.resample(samples.astype(np.float32, copy=False), from_rate, to_rate, quality="HQ")
    return resampled


def loudness(samples: np.ndarray, rate: int) -> float:
    """Integrated loudness in LUFS; -inf for silence. Clips shorter than one 400 ms
    measurement block are measured as if repeated, which is what a listener hears as their level."""
    block = int(np.ceil(_BS1770_BLOCK_S * rate))
    if not samples.size:
        return float("-inf")
    if samples.size < block:
        samples = np.resize(samples, block)
    return float(pyloudnorm.Meter(rate).integrated_loudness(samples.astype(np.float64)))


def loudness_gain(samples: np.ndarray, rate: int, target_lufs: float = DEFAULT_LUFS) -> float | None:
    """The linear gain that brings `samples` to `target_lufs`; None for silence (no level to set)."""
    measured = loudness(samples, rate)
    if not np.isfinite(measured):
        return None
    return float(10.0 ** ((target_lufs - measured) / 20.0))


def normalize_loudness(samples: np.ndarray, rate: int, target_lufs: float = DEFAULT_LUFS) -> np.ndarray:
    """Scale to `target_lufs`; silence is returned as is. Peaks may exceed 0 dBFS: limit after."""
    gain = loudness_gain(samples, rate, target_lufs)
    if gain is None:
        return samples.astype(np.float32, copy=False)
    return (samples * gain).astype(np.float32)


def apply_volume(samples: np.ndarray, factor: float) -> np.ndarray:
    """Linear gain: 0 silences, 1 leaves unchanged, 2 is +6 dB."""
    if factor < 0:
        raise ValueError("volume is a linear factor >= 0")
    return (samples * factor).astype(np.float32)


def limit(samples: np.ndarray, rate: int, ceiling_db: float = DEFAULT_CEILING_DB) -> np.ndarray:
    """Look-ahead peak limiter: no (oversampled) peak above `ceiling_db`, and no clicks.

    The gain each sample needs is spread over a short hold window (a running minimum), then
    smoothed with a box half as wide as the hold, which can only lower it further, so the gain
    is already down when a peak arrives and eases back after it.
    """
    if not samples.size:
        return samples.astype(np.float32, copy=False)
    ceiling = 10.0 ** (ceiling_db / 20.0)
    oversampled = resample_poly(samples.astype(np.float64), 4, 1)
    peaks = np.abs(oversampled).reshape(-1, 4).max(axis=1)
    needed = np.minimum(1.0, ceiling / np.maximum(peaks, 1e-12))
    hold = max(1, int(_LIMITER_HOLD_S * rate))
    gain = minimum_filter1d(needed, size=2 * hold + 1, mode="nearest")
    gain = uniform_filter1d(gain, size=hold | 1, mode="nearest")
    # the smoothed gain never exceeds what each sample needs; the clip only catches the
    # rounding-level overshoot between oversampled and real samples
    limited: np.ndarray = np.clip(samples * gain, -ceiling, ceiling).astype(np.float32)
    return limited


def silence(duration_ms: int, rate: int) -> np.ndarray:
    """Digital silence, e.g. a block's `wait_after_ms`."""
    return np.zeros(round(duration_ms * rate / 1000), dtype=np.float32)


def concatenate(segments: Sequence[np.ndarray]) -> np.ndarray:
    """Join segments that share one sample rate, end to end."""
    if not segments:
        return np.zeros(0, dtype=np.float32)
    return np.concatenate([s.astype(np.float32, copy=False) for s in segments])


def postprocess(
    samples: np.ndarray,
    rate: int,
    *,
    pitch_semitones: float = 0.0,
    volume: float = 1.0,
    target_lufs: float = DEFAULT_LUFS,
    ceiling_db: float = DEFAULT_CEILING_DB,
    level: Leveller | None = None,
) -> np.ndarray:
    """An engine's output made ready to encode, in the one order that makes sense:
    pitch (changes the signal), loudness (sets the level), volume (the user's offset from
    that level), limiter (last, so nothing the steps before did can clip). The level is
    `target_lufs` for these samples alone unless `level` sets it (a stream, whose pieces
    take their level from the block heard so far: work/streaming.py)."""
    samples = shift_pitch(samples, rate, pitch_semitones)
    samples = level(samples, rate) if level else normalize_loudness(samples, rate, target_lufs)
    samples = apply_volume(samples, volume)
    return limit(samples, rate, ceiling_db)
