"""Engine selection: `VOXIFY_ENGINE`/`VOXIFY_DEFAULT_ENGINE` = auto | f5tts | vits | formant.

`auto` takes F5-TTS only where it can really run well: a CUDA device and weights on hand.
Everywhere else (laptops, CI) the offline pair, which needs neither: the bundled neural voice
(vits) for the languages it speaks, the eSpeak NG formant engine for every other.
"""

from __future__ import annotations

import os

from voxify.observability import logger
from voxify.settings import get_settings
from voxify_worker.engines.base import (
    CancelCheck,
    ChunkCallback,
    Engine,
    ProgressCallback,
    ReferenceVoice,
    SynthesisRequest,
    SynthesisResult,
)

OFFLINE = "offline"  # what `auto` means without a GPU: vits, else formant


def chosen_engine_name() -> str:
    requested = os.environ.get("VOXIFY_ENGINE") or get_settings().default_engine
    if requested != "auto":
        return requested
    return "f5tts" if _f5tts_can_run() else OFFLINE


def _f5tts_can_run() -> bool:
    try:
        import torch
    except ImportError:
        return False
    if not torch.cuda.is_available():
        return False
    from voxify_worker.engines.f5tts import weights_available

    return weights_available()


class OfflineEngine:
    """The neural voice for the languages it speaks, eSpeak NG for the rest; each job's
    result names the engine that really spoke it."""

    def __init__(self) -> None:
        from voxify_worker.engines.formant import FormantEngine
        from voxify_worker.engines.vits import VitsEngine

        self.neural, self.fallback = VitsEngine(), FormantEngine()
        self.name = f"{self.neural.name}+{self.fallback.name}"
        self.model = f"{self.neural.model}+{self.fallback.model}"
        self.version = self.neural.version

    def synthesize(
        self,
        reference: ReferenceVoice,
        request: SynthesisRequest,
        progress: ProgressCallback | None = None,
        should_cancel: CancelCheck | None = None,
        on_chunk: ChunkCallback | None = None,
    ) -> SynthesisResult:
        engine: Engine = self.neural if self.neural.speaks(request.language) else self.fallback
        return engine.synthesize(reference, request, progress, should_cancel, on_chunk)


def load_engine(name: str | None = None) -> Engine:
    """Load the engine once, at worker start (weights, eSpeak, caches)."""
    name = name or chosen_engine_name()
    logger.info("loading engine", extra={"engine": name})
    if name == OFFLINE:
        return OfflineEngine()
    if name == "vits":
        from voxify_worker.engines.vits import VitsEngine

        return VitsEngine()
    if name == "formant":
        from voxify_worker.engines.formant import FormantEngine

        return FormantEngine()
    if name == "f5tts":
        from voxify_worker.engines.f5tts import F5TTSEngine

        return F5TTSEngine.from_settings()
    raise ValueError(f"unknown engine {name!r}")
