"""Voxify's audio watermark: Resemble's PerTh-Net implicit mark, embedded in every output and
looked for in any file.

The `resemble-perth` wheel ships the pretrained network and its weights, but its
`perth.perth_net` package cannot be imported as published: its `__init__` imports
`pkg_resources` (gone from setuptools 84) only to find the folder of those weights. So that
package is registered here as a plain package of the same folder (found with
`importlib.resources`), carrying the one name its modules read from it
(`PREPACKAGED_MODELS_DIR`); its modules then import unchanged, and the checkpoint loads through
the package's own `CheckpointManager` and `PerthNet`. The network is loaded once per process,
on first use, and shared by every thread.

The mark is one bit, "made by Voxify", spread below 2 kHz of a 32 kHz spectrogram: it
survives MP3, Ogg, resampling down to 8 kHz, added noise, short excerpts and (read at the
rates that undo it) a 5 % change of speed; `bench/watermark_robustness.py` prints the figures.
The detector's score is 0..1; 0.5 and above reads as marked.
"""

from __future__ import annotations

import importlib.machinery
import importlib.metadata
import importlib.resources
import importlib.util
import sys
import threading
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import torch

from voxify.domain.watermarks import OutputWatermark

SCHEME = "perth-implicit"
MARKED_AT = 0.5
# the rates (as shares of the stated one) a file is read at: as is, then as if played 5 % slower or faster
SPEEDS = (1.0, 0.95, 1.05)
# PerTh-Net frames with a 2048-point STFT at 32 kHz: shorter clips are padded with silence
_MIN_SECONDS = 0.1
_PACKAGE = "perth.perth_net"
_WARM_UP_RATE = 22_050
_WARM_UP_SAMPLES = _WARM_UP_RATE // 5
_load_lock = threading.Lock()


@dataclass(frozen=True)
class Detection:
    marked: bool
    confidence: float


class Watermarker:
    """Marks audio and looks for the mark; the network loads once per process, on first use."""

    def load(self) -> None:
        """Load now (at worker start) rather than inside the first job, and mark a moment of
        noise once: the network's first run in a process costs about half a second more than
        any later one, which would otherwise delay the first job's (the first stream's) audio."""
        _network()
        self.mark(np.random.default_rng(0).normal(0.0, 0.01, _WARM_UP_SAMPLES).astype(np.float32), _WARM_UP_RATE)

    @property
    def watermark(self) -> OutputWatermark:
        """What a job records about the mark its output carries."""
        return OutputWatermark(scheme=SCHEME, version=_network().version)

    def mark(self, samples: np.ndarray, rate: int) -> np.ndarray:
        """`samples` with the mark embedded: same rate, same length, float32."""
        if not samples.size:
            return samples.astype(np.float32, copy=False)
        with torch.inference_mode():
            marked = _network().perth.apply_watermark(_padded(samples, rate), sample_rate=rate)
        return _fit(np.asarray(marked, dtype=np.float32), samples.size)

    def detect(self, samples: np.ndarray, rate: int) -> Detection:
        """Whether `samples` carry the mark, with the detector's score (near 1 marked, near 0
        not). Audio played up to 5 % faster or slower is read at the rate that undoes that too:
        the detector alone misses a mark whose frequencies moved with the speed."""
        confidence = 0.0
        for speed in SPEEDS:
            confidence = max(confidence, self._score(samples, round(rate * speed)))
            if confidence >= MARKED_AT:
                break
        return Detection(confidence >= MARKED_AT, confidence)

    def _score(self, samples: np.ndarray, rate: int) -> float:
        """The detector's score for `samples` read at `rate`; 0 for silence (where it has none)."""
        if not samples.size:
            return 0.0
        with torch.inference_mode():
            score = float(_network().perth.get_watermark(_padded(samples, rate), sample_rate=rate, round=False))
        return round(min(max(score, 0.0), 1.0), 4) if np.isfinite(score) else 0.0


@dataclass(frozen=True)
class _Network:
    """The loaded PerTh watermarker and the version its marks are recorded under."""

    perth: Any
    version: str


def _network() -> _Network:
    with _load_lock:
        return _load()


@cache
def _load() -> _Network:
    _register_package()
    from perth.perth_net.perth_net_implicit.checkpoint_manager import CheckpointManager
    from perth.perth_net.perth_net_implicit.model.perth_net import PerthNet
    from perth.perth_net.perth_net_implicit.perth_watermarker import PerthImplicitWatermarker

    manager = CheckpointManager(sys.modules[_PACKAGE].PREPACKAGED_MODELS_DIR, "implicit")
    checkpoint = manager.load_latest()
    network = PerthNet(manager.hp)
    network.load_state_dict(checkpoint["model"])
    network.eval()
    version = f"{importlib.metadata.version('resemble-perth')}+{checkpoint['step']}"
    return _Network(PerthImplicitWatermarker(run_name=None, perth_net=network), version)


def _register_package() -> None:
    """`perth.perth_net` as a plain package of its folder, without running its `__init__`
    (which needs pkg_resources); a no-op once it is imported."""
    if _PACKAGE in sys.modules:
        return
    folder = importlib.resources.files("perth") / "perth_net"
    package = importlib.util.module_from_spec(importlib.machinery.ModuleSpec(_PACKAGE, None, is_package=True))
    package.__path__ = [str(folder)]
    package.PREPACKAGED_MODELS_DIR = str(folder / "pretrained")  # type: ignore[attr-defined]
    sys.modules[_PACKAGE] = package


def _padded(samples: np.ndarray, rate: int) -> np.ndarray:
    shortest = int(_MIN_SECONDS * rate)
    samples = samples.astype(np.float32, copy=False)
    return np.pad(samples, (0, shortest - samples.size)) if samples.size < shortest else samples


def _fit(samples: np.ndarray, length: int) -> np.ndarray:
    """The STFT round trip and resampling move the length by a few samples: cut or pad back."""
    return samples[:length] if samples.size >= length else np.pad(samples, (0, length - samples.size))
