"""How usable a voice sample is: measured figures, a 0-100 score, and reasons to refuse it.

The figures are ones a person can check with an audio editor: duration, how much of it is
speech (WebRTC VAD, the detector resemblyzer also uses), loudness (BS.1770), peak and the
share of clipped samples, an SNR estimate and spectral flatness. The SNR is the spread
between loud and quiet 30 ms frames: speech with pauses spans 25 dB or more, a recording
drowned in noise (or noise alone) hardly any. Flatness separates noise from voice even when
the noise is loud and steady. Thresholds were checked against the speech shipped with f5-tts
and against synthetic silence, noise and clipped audio (tests/unit/worker/audio/test_quality.py).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import webrtcvad

from .process import loudness, resample

VAD_RATE = 16_000
FRAME_SECONDS = 0.03
MIN_SECONDS = 1.0
MAX_SECONDS = 300.0
SILENCE_PEAK_DBFS = -50.0
CLIPPING_LEVEL = 0.99
MAX_CLIPPING_RATIO = 0.01
MIN_SNR_DB = 12.0
MAX_FLATNESS = 0.3
MIN_SPEECH_RATIO = 0.2


@dataclass(frozen=True)
class Quality:
    duration_seconds: float
    speech_seconds: float
    speech_ratio: float
    loudness_lufs: float | None
    peak_dbfs: float
    clipping_ratio: float
    snr_db: float
    spectral_flatness: float
    sample_rate: int
    score: int

    def as_record(self) -> dict[str, float | int | None]:
        return asdict(self)


def measure(samples: np.ndarray, rate: int) -> Quality:
    """Figures for mono float samples at their original rate (clipping is judged there,
    before resampling smears flat tops into ringing)."""
    duration = len(samples) / rate
    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    clipping = float(np.mean(np.abs(samples) >= CLIPPING_LEVEL)) if samples.size else 0.0
    at_16k = resample(samples, rate, VAD_RATE)
    frames = _frames(at_16k)
    speech_ratio = _speech_ratio(at_16k) if frames.size else 0.0
    level = loudness(samples, rate) if samples.size else float("-inf")
    snr, flatness = _snr_db(frames), _flatness(frames)
    return Quality(
        duration_seconds=round(duration, 3),
        speech_seconds=round(duration * speech_ratio, 3),
        speech_ratio=round(speech_ratio, 3),
        loudness_lufs=round(level, 2) if math.isfinite(level) else None,
        peak_dbfs=round(_db(peak), 2),
        clipping_ratio=round(clipping, 5),
        snr_db=round(snr, 2),
        spectral_flatness=round(flatness, 4),
        sample_rate=rate,
        score=_score(duration, speech_ratio, clipping, snr, flatness),
    )


def rejection_reasons(quality: Quality) -> list[str]:
    """Human-readable reasons a sample cannot make a voice; empty when it can."""
    if quality.duration_seconds < MIN_SECONDS:
        return [f"too short: {quality.duration_seconds:.2f} s, at least {MIN_SECONDS:.0f} s of speech is needed"]
    if quality.duration_seconds > MAX_SECONDS:
        return [f"too long: {quality.duration_seconds:.0f} s, at most {MAX_SECONDS:.0f} s"]
    if quality.peak_dbfs < SILENCE_PEAK_DBFS:
        return [f"silence: the loudest moment is {quality.peak_dbfs:.0f} dBFS"]
    reasons = []
    if quality.clipping_ratio > MAX_CLIPPING_RATIO:
        reasons.append(
            f"heavy clipping: {quality.clipping_ratio:.1%} of samples are at full scale "
            f"(at most {MAX_CLIPPING_RATIO:.0%}); record with less gain"
        )
    if quality.spectral_flatness > MAX_FLATNESS or quality.snr_db < MIN_SNR_DB:
        reasons.append(
            f"too noisy: estimated SNR {quality.snr_db:.0f} dB (at least {MIN_SNR_DB:.0f} dB), "
            f"spectral flatness {quality.spectral_flatness:.2f} (speech stays under {MAX_FLATNESS})"
        )
    elif quality.speech_ratio < MIN_SPEECH_RATIO:
        reasons.append(
            f"too little speech: {quality.speech_ratio:.0%} of the clip is speech (at least {MIN_SPEECH_RATIO:.0%})"
        )
    return reasons


def _frames(samples: np.ndarray) -> np.ndarray:
    size = int(VAD_RATE * FRAME_SECONDS)
    count = len(samples) // size
    return samples[: count * size].reshape(count, size).astype(np.float64)


def _speech_ratio(samples: np.ndarray) -> float:
    vad = webrtcvad.Vad(2)
    size = int(VAD_RATE * FRAME_SECONDS)
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    frames = [pcm[i : i + size].tobytes() for i in range(0, len(pcm) - size + 1, size)]
    return sum(vad.is_speech(frame, VAD_RATE) for frame in frames) / len(frames) if frames else 0.0


def _snr_db(frames: np.ndarray) -> float:
    """Loud frames (95th percentile of energy) over the noise floor (10th percentile)."""
    if not frames.size:
        return 0.0
    energy = np.mean(frames**2, axis=1) + 1e-12
    return float(10 * np.log10(np.percentile(energy, 95) / np.percentile(energy, 10)))


def _flatness(frames: np.ndarray) -> float:
    """Median spectral flatness of the frames with energy (silence has no spectrum to judge)."""
    if not frames.size:
        return 0.0
    energy = np.mean(frames**2, axis=1)
    voiced = frames[energy > max(1e-8, float(np.percentile(energy, 50)))]
    if not voiced.size:
        return 0.0
    power = np.abs(np.fft.rfft(voiced * np.hanning(voiced.shape[1]), axis=1)) ** 2 + 1e-12
    return float(np.median(np.exp(np.mean(np.log(power), axis=1)) / np.mean(power, axis=1)))


def _score(duration: float, speech_ratio: float, clipping: float, snr: float, flatness: float) -> int:
    """100 for clean, unclipped speech of 5-12 s (what F5-TTS references want), less for each flaw."""
    penalty = max(0.0, 30 - snr) * 2
    penalty += min(40.0, clipping * 4000)
    penalty += max(0.0, 0.6 - speech_ratio) * 100
    penalty += max(0.0, 5 - duration) * 5
    penalty += max(0.0, flatness - 0.1) * 100
    return int(max(0, min(100, round(100 - penalty))))


def _db(amplitude: float) -> float:
    return 20 * math.log10(amplitude) if amplitude > 0 else -120.0
