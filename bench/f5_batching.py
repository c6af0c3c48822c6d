"""F5-TTS: our engine against f5-tts's own API, and many requests per `CFM.sample` call.

Side by side, on whatever device is present:
1. One request: real-time factor (seconds of compute per second of audio) of f5-tts's
   `F5TTS.infer` and of `F5TTSEngine.synthesize`, on the same model and vocoder objects, the
   same reference recording and text, 32 flow steps, the same seed.
2. C = 1, 4, 8, 16 concurrent requests (different texts, the same voice): aggregate RTF
   (wall seconds for all C / their audio seconds) when the engine takes them one after
   another, as a worker does with jobs that arrive apart, and when `synthesize_many` runs them
   together, as the worker does with jobs that wait together.

--tiny (the default without a GPU): the tiny random model the tests use, which measures
the pipeline around the network more than the network. --full (the default on a GPU): the
released sizes with random weights (tests/fixtures/tiny_f5.build_full_size_f5), for timing
the real network; a random model still speaks F5's durations, so RTFs are comparable.

Timed calls run in one worker thread, as f5-tts runs its own inference: on a busy machine
OpenMP spinning in the main thread makes small torch ops ~10x slower. `torchaudio.load`,
which `F5TTS.infer` calls and which needs torchcodec + FFmpeg (absent here: DESIGN.md 5),
is replaced by a soundfile reader for the run.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import sys
import tempfile
import time
import types
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from importlib.resources import files
from pathlib import Path
from typing import Any, TypeVar

import soundfile as sf
import torch
import torchaudio

from tests.fixtures.tiny_f5 import build_full_size_f5, build_tiny_f5
from voxify_worker.engines.base import EngineError, ReferenceVoice, SynthesisRequest
from voxify_worker.engines.f5tts import F5TTSEngine

T = TypeVar("T")
REFERENCE = files("f5_tts").joinpath("infer/examples/basic/basic_ref_en.wav")
REFERENCE_TEXT = "Some call me nature, others call me mother nature."
TEXT = "I don't really care what you call me. I've been a silent spectator, watching species evolve."
REQUESTS = [
    "The quick brown fox jumps over the lazy dog.",
    "It was a bright cold day in April, and the clocks were striking thirteen.",
    "Please confirm your appointment for Tuesday at half past nine.",
    "All happy families are alike; each unhappy family is unhappy in its own way.",
    "Your package has shipped and will arrive within three business days.",
    "Call me Ishmael.",
    "The meeting has been moved to the large room on the second floor, next to the kitchen.",
    "Turn left at the next intersection, then continue straight for two kilometres.",
    "Thank you for calling; all of our agents are busy right now.",
    "In the beginning the universe was created, which made a lot of people very angry.",
    "Remember to water the plants on the balcony while we are away.",
    "The train to the airport leaves from platform four in ten minutes.",
    "She sells sea shells by the sea shore.",
    "We are pleased to announce that the new library will open next spring with longer hours.",
    "Your verification code is four, seven, two, nine.",
    "The weather tomorrow will be mostly sunny with a light breeze from the west.",
]
CONCURRENCY = (1, 4, 8, 16)
STEPS = 32
SEED = 7


def in_thread(call: Callable[[], T]) -> T:
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(call).result()


def _upstream_api_class() -> Any:
    """f5_tts.api.F5TTS. Its module imports cached_path, hydra and omegaconf for its
    __init__ alone (config and hub download), and the project installs f5-tts without
    them (inference_container/requirements-f5tts.txt); this bench builds the object on the
    engine's model without __init__, so stand-ins satisfy the imports."""
    stand_ins = {
        "cached_path": {"cached_path": None},
        "hydra": {},
        "hydra.utils": {"get_class": None},
        "omegaconf": {"OmegaConf": None},
    }
    for name, attributes in stand_ins.items():
        try:
            __import__(name)
        except ImportError:
            module = types.ModuleType(name)
            module.__dict__.update(attributes)
            sys.modules[name] = module
    from f5_tts.api import F5TTS

    return F5TTS


def _load_with_soundfile(path: str, *args: object, **kwargs: object) -> tuple[torch.Tensor, int]:
    audio, rate = sf.read(path, dtype="float32", always_2d=True)
    return torch.from_numpy(audio.T.copy()), rate


def timed(call: Callable[[], float], runs: int, warm_up: bool = True) -> tuple[float, float]:
    """Median RTF of `call` (which returns its audio seconds) over `runs`, and the audio
    seconds; after one untimed call when `warm_up`."""
    if warm_up:
        in_thread(call)
    rtfs, seconds = [], 0.0
    for _ in range(runs):
        start = time.perf_counter()
        seconds = in_thread(call)
        rtfs.append((time.perf_counter() - start) / seconds)
    return statistics.median(rtfs), seconds


def upstream_api(engine: F5TTSEngine) -> Any:
    """f5-tts's API object on the engine's own model and vocoder (its __init__ would read
    the released config and download the weights)."""
    api_class = _upstream_api_class()
    api = api_class.__new__(api_class)
    api.ema_model = engine._model(engine.model)
    api.vocoder = engine._load_vocoder()
    api.mel_spec_type, api.target_sample_rate, api.device = "vocos", 24_000, engine.device
    return api


def single_request(engine: F5TTSEngine, reference: ReferenceVoice, runs: int) -> None:
    """Both single-request paths, warmed up (which also warms the tiny model for the rest)."""
    api = upstream_api(engine)

    def theirs() -> float:
        with contextlib.redirect_stdout(io.StringIO()):  # f5-tts prints every batch
            wave, rate, _ = api.infer(
                str(REFERENCE), REFERENCE_TEXT, TEXT, show_info=lambda *_: None, progress=None, seed=SEED
            )
        return len(wave) / rate

    def ours() -> float:
        return engine.synthesize(reference, SynthesisRequest(TEXT)).duration

    print(f"one request, {engine.nfe_steps} steps, {len(TEXT)} characters:")
    for name, call in (("f5_tts.api.F5TTS.infer", theirs), ("F5TTSEngine.synthesize", ours)):
        rtf, seconds = timed(call, runs)
        print(f"  {name:<26}audio {seconds:5.2f} s   RTF {rtf:8.3f}")


def concurrent_requests(
    engine: F5TTSEngine, reference: ReferenceVoice, runs: int, counts: tuple[int, ...], warm_up: bool
) -> None:
    def one_by_one(count: int) -> float:
        return sum(engine.synthesize(reference, SynthesisRequest(text)).duration for text in REQUESTS[:count])

    def together(count: int) -> float:
        results = engine.synthesize_many([(reference, SynthesisRequest(text)) for text in REQUESTS[:count]])
        assert not any(isinstance(result, EngineError) for result in results)
        return sum(result.duration for result in results if not isinstance(result, EngineError))

    print("aggregate RTF (wall seconds / audio seconds) of C concurrent requests:")
    print(f"  {'C':>3}{'audio s':>10}{'one by one':>13}{'one batch':>12}{'speed-up':>10}")
    for count in counts:
        sequential, audio = timed(partial(one_by_one, count), runs, warm_up)
        batched, _ = timed(partial(together, count), runs, warm_up)
        print(f"  {count:>3}{audio:>10.1f}{sequential:>13.3f}{batched:>12.3f}{sequential / batched:>9.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--tiny", action="store_true", help="the tiny test model (default without a GPU)")
    size.add_argument("--full", action="store_true", help="released sizes, random weights (default on a GPU)")
    parser.add_argument(
        "--runs", type=int, default=None, help="timed runs per concurrency figure (median; default 3, tiny 1)"
    )
    parser.add_argument("--steps", type=int, default=STEPS, help=f"flow steps (default {STEPS}, as F5's own)")
    parser.add_argument(
        "--concurrency",
        type=lambda text: tuple(int(count) for count in text.split(",")),
        default=CONCURRENCY,
        help="comma-separated request counts (default 1,4,8,16)",
    )
    args = parser.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    full = args.full or (not args.tiny and device == "cuda")
    runs = args.runs or (3 if full else 1)
    torchaudio.load = _load_with_soundfile  # see the module doc

    audio, rate = sf.read(str(REFERENCE), dtype="float32")
    reference = ReferenceVoice("bench-en", audio, rate, REFERENCE_TEXT)
    with tempfile.TemporaryDirectory() as folder:
        build = build_full_size_f5 if full else build_tiny_f5
        build(Path(folder))
        engine = F5TTSEngine(Path(folder), device=device, nfe_steps=args.steps, seed=SEED)
        name = torch.cuda.get_device_name() if device == "cuda" else f"cpu, {torch.get_num_threads()} threads"
        model = "F5TTS_v1_Base size, random weights" if full else "tiny random model"
        # the tiny model needs no warm-up per batch shape (a GPU's kernels do)
        single_runs = args.runs or 3
        print(f"F5-TTS batching: {model}, {name}; medians of {single_runs} runs, of {runs} for C requests")
        with contextlib.redirect_stdout(io.StringIO()):  # f5-tts's loaders print paths
            engine._model(engine.model), engine._load_vocoder()
        single_request(engine, reference, single_runs)
        concurrent_requests(engine, reference, runs, args.concurrency, warm_up=full)


if __name__ == "__main__":
    main()
