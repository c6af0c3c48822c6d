"""Voice matching with WORLD: move one speaker's pitch and broad timbre toward another's.

Both voices are summarised by a `VoiceProfile` (log-f0 centre and spread, long-term average
log spectral envelope of voiced frames). `VoiceMatch.plan` turns two profiles into a mapping:
log-f0 is shifted and scaled to the target's centre and spread; the envelope is
frequency-warped by the ratio that best lines up the two profiles' formant-scale detail (a
vocal-tract-length estimate) and then filtered by the smoothed remaining difference of the
long-term spectra. This is timbre *matching*, not speaker modelling: articulation, rhythm
and accent stay the source's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import uniform_filter1d

from .process import resample
from .world import DEFAULT_RESOLUTION, Resolution, analyse, synthesise

_MIN_VOICED_S = 0.5
_MAX_REFERENCE_S = 30.0  # enough to learn a voice from; longer recordings only cost time
_USABLE_BANDWIDTH = 0.45  # of a recording's rate: above it lies the anti-aliasing roll-off
_FULL_SCALE = 0.99  # peak ceiling of matched speech, just under clipping
# text that exercises most English vowels and consonants: what a source voice reads to be
# profiled when the reference comes without a usable transcript
CALIBRATION_TEXT = (
    "Every morning the quiet harbour wakes slowly. Fishing boats drift past the "
    "old stone pier while gulls call above the water. By noon the market is busy "
    "with voices, bright colours and the smell of fresh bread."
)


@dataclass(frozen=True)
class MatchLimits:
    """How far a match may go. The defaults suit a source voice already picked by register
    (eSpeak's male or female variant), which needs refining only; a single source voice
    must stretch further and may follow the reference's spectrum more closely."""

    warp_range: tuple[float, float] = (0.88, 1.12)
    f0_scale_range: tuple[float, float] = (0.5, 2.0)  # target's log-f0 spread over the source's
    filter_smooth_hz: float = 400.0  # detail finer than this is not copied from the reference
    filter_limit_db: float = 12.0  # largest boost or cut of the envelope filter
    fit_top_hz: float = 5000.0  # the filter is fitted below this (and the recording's bandwidth)


DEFAULT_LIMITS = MatchLimits()


@dataclass(frozen=True)
class VoiceProfile:
    """What is matched: pitch centre and spread (log Hz), mean log envelope of voiced frames."""

    log_f0_median: float
    log_f0_spread: float
    log_envelope: np.ndarray
    bandwidth_hz: float  # above this the recording carries no information
    resolution: Resolution = DEFAULT_RESOLUTION  # the WORLD grid the envelope was measured on


def profile(
    samples: np.ndarray, rate: int, bandwidth_hz: float, resolution: Resolution = DEFAULT_RESOLUTION
) -> VoiceProfile | None:
    """None when there is too little voiced speech to learn from."""
    a = analyse(samples, rate, aperiodicity=False, resolution=resolution)
    voiced = a.f0 > 0
    if voiced.sum() * resolution.frame_period_ms / 1000 < _MIN_VOICED_S:
        return None
    log_f0 = np.log(a.f0[voiced])
    p10, p50, p90 = np.percentile(log_f0, [10, 50, 90])
    return VoiceProfile(
        float(p50),
        float(max(p90 - p10, 1e-3) / 2.563),
        np.log(a.envelope[voiced] + 1e-16).mean(axis=0),
        bandwidth_hz,
        resolution,
    )


def reference_profile(
    samples: np.ndarray, sample_rate: int, rate: int, resolution: Resolution = DEFAULT_RESOLUTION
) -> VoiceProfile | None:
    """The profile of a reference recording (its first 30 s) at the source voice's `rate`,
    knowing where its bandwidth ends; None when it holds too little voiced speech."""
    clip = resample(samples[: int(_MAX_REFERENCE_S * sample_rate)], sample_rate, rate)
    return profile(clip, rate, _USABLE_BANDWIDTH * min(sample_rate, rate), resolution)


def source_profile(samples: np.ndarray, rate: int, resolution: Resolution = DEFAULT_RESOLUTION) -> VoiceProfile | None:
    """The profile of a synthetic source voice: full bandwidth; None when it is unvoiced."""
    return profile(samples, rate, _USABLE_BANDWIDTH * rate, resolution)


@dataclass(frozen=True)
class VoiceMatch:
    """f0 and envelope mapping from a source voice (eSpeak, the bundled neural voice) to a reference speaker."""

    source: VoiceProfile
    target: VoiceProfile
    f0_scale: float  # ratio of log-f0 spreads, bounded
    warp: float  # > 1 moves formants up (shorter vocal tract)
    log_filter: np.ndarray  # per envelope bin, natural log of power gain

    @classmethod
    def plan(
        cls,
        source: VoiceProfile,
        target: VoiceProfile,
        rate: int,
        limits: MatchLimits = DEFAULT_LIMITS,
    ) -> VoiceMatch:
        if source.resolution != target.resolution:
            raise ValueError("voice profiles measured at different WORLD resolutions do not compare")
        freqs = np.linspace(0, rate / 2, len(source.log_envelope))
        hz_per_bin = freqs[1]
        band = (freqs > 250) & (freqs < min(5000.0, target.bandwidth_hz))
        detail_window = int(1500 / hz_per_bin) | 1

        def detail(log_envelope: np.ndarray) -> np.ndarray:  # formant-scale shape, no tilt
            return log_envelope - uniform_filter1d(log_envelope, detail_window, mode="nearest")

        target_detail = detail(target.log_envelope)[band]
        warps = np.arange(limits.warp_range[0], limits.warp_range[1] + 1e-9, 0.005)
        scores = [np.corrcoef(detail(_warp(source.log_envelope, w))[band], target_detail)[0, 1] for w in warps]
        warp = float(warps[int(np.argmax(scores))])
        difference = target.log_envelope - _warp(source.log_envelope, warp)
        difference = uniform_filter1d(difference, int(limits.filter_smooth_hz / hz_per_bin) | 1, mode="nearest")
        fitted = (freqs > 100) & (freqs < min(limits.fit_top_hz, target.bandwidth_hz))
        top = int(np.nonzero(fitted)[0][-1])
        difference[top:] = difference[top]  # no information above: extend flat
        difference -= difference[fitted].mean()  # shape only; level is matched separately
        limit_nepers = np.log(10 ** (limits.filter_limit_db / 10))
        log_filter = np.clip(difference, -limit_nepers, limit_nepers)
        f0_scale = float(np.clip(target.log_f0_spread / source.log_f0_spread, *limits.f0_scale_range))
        return cls(source, target, f0_scale, warp, log_filter)

    def apply(self, samples: np.ndarray, rate: int) -> np.ndarray:
        if not samples.size:
            return samples
        a = analyse(samples, rate, resolution=self.source.resolution)
        voiced = a.f0 > 0
        a.f0[voiced] = np.exp(
            self.target.log_f0_median + (np.log(a.f0[voiced]) - self.source.log_f0_median) * self.f0_scale
        )
        a.envelope = np.exp(_warp(np.log(a.envelope + 1e-16), self.warp) + self.log_filter)
        converted = synthesise(a)
        # keep the source's level: the envelope filter is level-neutral only on average
        before, after = np.sqrt(np.mean(samples**2)), np.sqrt(np.mean(converted**2))
        leveled = converted * (before / after) if after > 0 else converted
        # ...but never past full scale: a reshaped envelope can raise peaks the level match keeps
        peak = float(np.abs(leveled).max())
        return leveled * (_FULL_SCALE / peak) if peak > _FULL_SCALE else leveled


def _warp(log_envelope: np.ndarray, factor: float) -> np.ndarray:
    """Envelope(s) with frequency axis scaled: new(f) = old(f / factor), along the last axis."""
    bins = log_envelope.shape[-1]
    source = np.minimum(np.arange(bins) / factor, bins - 1)
    low = np.floor(source).astype(int)
    high = np.minimum(low + 1, bins - 1)
    weight = source - low
    warped: np.ndarray = log_envelope[..., low] * (1 - weight) + log_envelope[..., high] * weight
    return warped
