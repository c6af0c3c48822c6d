"""Real-time factor (seconds of compute per second of audio) of each engine on this machine.

The vits (the neural offline default) and formant engines run as shipped. F5-TTS runs its
real code path with the tiny randomly initialised model the tests build (full-size weights
cannot be fetched here), so its figure measures the pipeline around the network, not the
full-size network itself.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from tests.fixtures.tiny_f5 import build_tiny_f5
from tests.fixtures.worker import REFERENCE_TEXT, reference_speech
from voxify_worker.audio import decode
from voxify_worker.engines.base import Engine, ReferenceVoice, SynthesisRequest
from voxify_worker.engines.f5tts import F5TTSEngine
from voxify_worker.engines.formant import FormantEngine
from voxify_worker.engines.vits import VitsEngine

TEXTS = {
    "short": "The quick brown fox jumps over the lazy dog.",
    "long": " ".join(["It was a bright cold day in April, and the clocks were striking thirteen."] * 6),
}
RUNS = 3


def measure(engine: Engine, reference: ReferenceVoice, text: str) -> tuple[float, float]:
    """Median RTF over RUNS after one warm-up call, and the audio's duration."""
    engine.synthesize(reference, SynthesisRequest(text))
    rtfs, duration = [], 0.0
    for _ in range(RUNS):
        start = time.perf_counter()
        result = engine.synthesize(reference, SynthesisRequest(text))
        duration = result.duration
        rtfs.append((time.perf_counter() - start) / duration)
    return statistics.median(rtfs), duration


def main() -> None:
    audio, rate = decode(reference_speech())
    reference = ReferenceVoice("bench", audio, rate, REFERENCE_TEXT)
    with tempfile.TemporaryDirectory() as folder:
        build_tiny_f5(Path(folder))
        engines: dict[str, Engine] = {
            "vits": VitsEngine(),
            "formant": FormantEngine(),
            "f5tts (tiny random model, 32 steps)": F5TTSEngine(Path(folder), device="cpu"),
        }
        print(f"{'engine':<38}{'text':<7}{'audio s':>9}{'RTF':>8}")
        for name, engine in engines.items():
            for label, text in TEXTS.items():
                rtf, duration = measure(engine, reference, text)
                print(f"{name:<38}{label:<7}{duration:>9.2f}{rtf:>8.3f}")
    print("(full-size F5TTS_v1_Base on 2 CPU cores measures RTF 40-80 at 32 steps: DESIGN.md section 5)")


if __name__ == "__main__":
    main()
