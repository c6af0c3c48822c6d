"""Engine selection: `VOXIFY_ENGINE`/`VOXIFY_DEFAULT_ENGINE` = auto | f5tts | formant.

`auto` takes F5-TTS only where it can really run well: a CUDA device and weights on hand.
Everywhere else (laptops, CI) the formant engine, which needs neither.
"""

from __future__ import annotations

import os

from voxify.observability import logger
from voxify.settings import get_settings
from voxify_worker.engines.base import Engine


def chosen_engine_name() -> str:
    requested = os.environ.get("VOXIFY_ENGINE") or get_settings().default_engine
    if requested != "auto":
        return requested
    return "f5tts" if _f5tts_can_run() else "formant"


def _f5tts_can_run() -> bool:
    try:
        import torch
    except ImportError:
        return False
    if not torch.cuda.is_available():
        return False
    from voxify_worker.engines.f5tts import weights_available

    return weights_available()


def load_engine(name: str | None = None) -> Engine:
    """Load the engine once, at worker start (weights, eSpeak, caches)."""
    name = name or chosen_engine_name()
    logger.info("loading engine", extra={"engine": name})
    if name == "formant":
        from voxify_worker.engines.formant import FormantEngine

        return FormantEngine()
    if name == "f5tts":
        from voxify_worker.engines.f5tts import F5TTSEngine

        return F5TTSEngine.from_settings()
    raise ValueError(f"unknown engine {name!r}")
