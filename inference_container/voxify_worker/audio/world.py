"""WORLD vocoder helpers (pyworld): analysis into f0 / spectral envelope / aperiodicity and
resynthesis at the same fixed frame period, so time alignment (and word timings) survive.

Used for pitch shifting any engine's output (the envelope is kept, so formants stay put and
the voice does not turn into a chipmunk) and by the formant engine to move eSpeak's voice
toward a reference speaker.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyworld

FRAME_PERIOD_MS = 5.0
F0_FLOOR = 60.0  # low enough for deep male voices
F0_CEIL = 600.0  # high enough for children and shifted-up voices


@dataclass(frozen=True)
class Resolution:
    """WORLD's analysis grid: the frame period, and the lowest pitch the envelope's FFT is
    sized for. Envelopes compare bin by bin only at the same resolution."""

    frame_period_ms: float = FRAME_PERIOD_MS
    envelope_floor_hz: float = F0_FLOOR
    aperiodicity_every: int = 1  # frames per aperiodicity measurement; it varies slowly


DEFAULT_RESOLUTION = Resolution()
# About half the cost of the default (half the FFT, aperiodicity every other frame) for
# re-voicing a source whose pitch stays above 71 Hz. Frames stay 5 ms: 10 ms frames cost
# recognisers twice the word errors.
FAST = Resolution(FRAME_PERIOD_MS, 71.0, 2)


@dataclass
class Analysis:
    f0: np.ndarray  # Hz per frame, 0 where unvoiced
    envelope: np.ndarray  # power spectral envelope, frames x (fft_size/2 + 1)
    aperiodicity: np.ndarray  # same shape as envelope
    rate: int
    length: int  # samples of the analysed signal
    frame_period_ms: float = FRAME_PERIOD_MS


def estimate_f0(
    samples: np.ndarray, rate: int, frame_period_ms: float = FRAME_PERIOD_MS
) -> tuple[np.ndarray, np.ndarray]:
    """(f0 per frame, frame times) by DIO + StoneMask: a tenth of Harvest's cost on CPU,
    and as good on the clean or near-clean speech this service handles."""
    x = np.ascontiguousarray(samples, dtype=np.float64)
    f0, times = pyworld.dio(x, rate, f0_floor=F0_FLOOR, f0_ceil=F0_CEIL, frame_period=frame_period_ms)
    return pyworld.stonemask(x, f0, times, rate), times


def analyse(
    samples: np.ndarray, rate: int, *, aperiodicity: bool = True, resolution: Resolution = DEFAULT_RESOLUTION
) -> Analysis:
    """Full WORLD analysis; skip aperiodicity (the slowest part) when only statistics are needed."""
    x = np.ascontiguousarray(samples, dtype=np.float64)
    f0, times = estimate_f0(x, rate, resolution.frame_period_ms)
    floor = resolution.envelope_floor_hz
    fft_size = pyworld.get_cheaptrick_fft_size(rate, floor)
    envelope = pyworld.cheaptrick(x, f0, times, rate, f0_floor=floor, fft_size=fft_size)
    ap = _aperiodicity(x, f0, times, rate, fft_size, resolution.aperiodicity_every) if aperiodicity else np.zeros(0)
    return Analysis(f0, envelope, ap, rate, len(x), resolution.frame_period_ms)


def _aperiodicity(x: np.ndarray, f0: np.ndarray, times: np.ndarray, rate: int, fft_size: int, every: int) -> np.ndarray:
    """D4C on every `every`-th frame, interpolated linearly in between."""
    measured = pyworld.d4c(
        x, np.ascontiguousarray(f0[::every]), np.ascontiguousarray(times[::every]), rate, fft_size=fft_size
    )
    if every == 1:
        return np.asarray(measured)
    position = np.minimum(np.arange(len(f0)) / every, len(measured) - 1)
    low = np.floor(position).astype(int)
    high = np.minimum(low + 1, len(measured) - 1)
    weight = (position - low)[:, None]
    return np.ascontiguousarray(measured[low] * (1 - weight) + measured[high] * weight)


def synthesise(analysis: Analysis) -> np.ndarray:
    """Waveform of exactly the analysed length, float32."""
    y = pyworld.synthesize(
        np.ascontiguousarray(analysis.f0),
        np.ascontiguousarray(analysis.envelope),
        np.ascontiguousarray(analysis.aperiodicity),
        analysis.rate,
        analysis.frame_period_ms,
    )
    y = y[: analysis.length]
    return np.pad(y, (0, analysis.length - len(y))).astype(np.float32)


def shift_pitch(samples: np.ndarray, rate: int, semitones: float) -> np.ndarray:
    """Raise or lower the pitch by `semitones`, keeping duration and formants."""
    if semitones == 0 or not samples.size:
        return samples.astype(np.float32, copy=False)
    analysis = analyse(samples, rate)
    analysis.f0 = analysis.f0 * 2.0 ** (semitones / 12.0)
    return synthesise(analysis)
