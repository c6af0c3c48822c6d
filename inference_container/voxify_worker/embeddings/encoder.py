"""Speaker embeddings: who is speaking, as a 256-d unit vector (resemblyzer's GE2E encoder).

The encoder's weights ship inside the resemblyzer wheel, so it works offline and in CI.
Cosine similarity of two embeddings (their dot product) is the measure everything else uses:
similar-voice search, the impersonation guard and a job's `speaker_similarity`.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from voxify_worker.audio import resample

EMBEDDING_MODEL = "resemblyzer-ge2e-256"
EMBEDDING_SIZE = 256
ENCODER_RATE = 16_000
# Cosine similarity at or above which two recordings are taken for one speaker. Measured on
# the real speech in the f5-tts wheel: halves and re-encodings of one recording 0.77-0.99,
# different speakers 0.40-0.61 (docs/voice-identity.md). The impersonation guard's default;
# fixed here where no setting may move it (verification, verified voices).
SAME_SPEAKER_SIMILARITY = 0.70


class SpeakerEncoder:
    """Loads the encoder on first use (about 2 s) and keeps it for the process."""

    def __init__(self, device: str | None = None) -> None:
        self._device = device
        self._encoder: Any = None
        self._lock = threading.Lock()

    @property
    def model(self) -> str:
        return EMBEDDING_MODEL

    def load(self) -> None:
        """Load now (at worker start) rather than inside the first sample's processing."""
        self._loaded()

    def _loaded(self) -> Any:
        with self._lock:
            if self._encoder is None:
                import torch
                from resemblyzer import VoiceEncoder

                device = self._device or ("cuda" if torch.cuda.is_available() else "cpu")
                self._encoder = VoiceEncoder(device, verbose=False)
            return self._encoder

    def embed(self, samples: np.ndarray, rate: int) -> np.ndarray:
        """The speaker embedding of mono float audio; long pauses are trimmed first so
        silence does not dilute the voice."""
        from resemblyzer import preprocess_wav

        wav = preprocess_wav(resample(samples, rate, ENCODER_RATE))
        if wav.size < ENCODER_RATE // 4:  # everything was trimmed as silence
            wav = resample(samples, rate, ENCODER_RATE)
        return np.asarray(self._loaded().embed_utterance(wav), dtype=np.float32)


def mean_embedding(vectors: list[np.ndarray]) -> np.ndarray:
    """A voice from several samples: the normalised mean, as GE2E builds speaker centroids."""
    centroid = np.mean(np.stack(vectors), axis=0)
    normalised: np.ndarray = (centroid / np.linalg.norm(centroid)).astype(np.float32)
    return normalised


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))
