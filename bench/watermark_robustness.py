"""How well the output watermark survives what happens to audio after it leaves Voxify, how
often it is found where it was never put, and what it costs.

Marked clips: each engine speaks a few sentences in the voice of the f5-tts example recording,
and each clip is finished as the worker finishes a job (post-processing, 24 kHz, the mark).
Each clip is then attacked and checked with the detector the API's detect route runs:

- mp3 128k / mp3 64k: MP3 (LAME) at that constant bit rate, decoded again;
- ogg: the worker's own Ogg Vorbis encoder, decoded again;
- 16k / 8k: resampled to that rate (and checked at it);
- noise 20dB: white noise 20 dB below the clip's level;
- 2 s excerpt: two seconds from the middle;
- speed +5% / -5%: played 5 % faster or slower (resampled, pitch moves with it).

False positives are counted over unmarked audio under the same attacks: the real recordings
shipped in the installed wheels (f5-tts's examples: the only speech recordings among them),
and synthetic audio: each engine's raw output, tones, chirps, noise, silence.

The cost is the seconds (wall clock) it takes to mark (and to check) one second of audio,
beside the engine's own real-time factor. F5-TTS runs its real code path with the tiny randomly initialised
model the tests build (full-size weights cannot be fetched here): its "speech" is noise-like,
which is a harder case for a mark tuned to speech. Run: `python -m bench.watermark_robustness`.
"""

from __future__ import annotations

import importlib.resources
import io
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np

from tests.fixtures.tiny_f5 import build_tiny_f5
from tests.fixtures.worker import REFERENCE_TEXT, reference_speech
from voxify_worker.audio import decode, encode, postprocess, resample
from voxify_worker.audio.watermark import Watermarker
from voxify_worker.engines.base import Engine, ReferenceVoice, SynthesisRequest
from voxify_worker.engines.f5tts import F5TTSEngine
from voxify_worker.engines.registry import load_engine

RATE = 24_000  # the default output rate of a job
TEXTS = [
    "The quick brown fox jumps over the lazy dog.",
    "It was a bright cold day in April, and the clocks were striking thirteen.",
    "Please call Stella and ask her to bring these things with her from the store.",
    "Six spoons of fresh snow peas, five thick slabs of blue cheese, and maybe a snack for her brother.",
]
Clip = tuple[np.ndarray, int]
Attack = Callable[[np.ndarray, int], Clip]


def _mp3(bit_rate: int) -> Attack:
    def attack(samples: np.ndarray, rate: int) -> Clip:
        buffer = io.BytesIO()
        with av.open(buffer, "w", format="mp3") as container:
            stream = container.add_stream("libmp3lame", rate=rate, layout="mono")
            stream.bit_rate = bit_rate
            frame = av.AudioFrame.from_ndarray(samples[None, :].astype(np.float32), format="fltp", layout="mono")
            frame.sample_rate = rate
            for packet in [*stream.encode(frame), *stream.encode(None)]:
                container.mux(packet)
        return decode(buffer.getvalue())

    return attack


def _ogg(samples: np.ndarray, rate: int) -> Clip:
    return decode(encode(samples, rate, "ogg", rate))


def _rate(to_rate: int) -> Attack:
    return lambda samples, rate: (resample(samples, rate, to_rate), to_rate)


def _noise(samples: np.ndarray, rate: int) -> Clip:
    level = np.sqrt(np.mean(samples**2)) / 10 ** (20 / 20)
    noise = np.random.default_rng(20).standard_normal(samples.size).astype(np.float32) * level
    return samples + noise, rate


def _excerpt(samples: np.ndarray, rate: int) -> Clip:
    start = max(0, samples.size // 2 - rate)
    return samples[start : start + 2 * rate], rate


def _speed(factor: float) -> Attack:
    return lambda samples, rate: (resample(samples, rate, round(rate / factor)), rate)


ATTACKS: dict[str, Attack] = {
    "none": lambda samples, rate: (samples, rate),
    "mp3 128k": _mp3(128_000),
    "mp3 64k": _mp3(64_000),
    "ogg": _ogg,
    "16k": _rate(16_000),
    "8k": _rate(8_000),
    "noise 20dB": _noise,
    "2 s excerpt": _excerpt,
    "speed +5%": _speed(1.05),
    "speed -5%": _speed(0.95),
}


def spoken(engine: Engine, reference: ReferenceVoice) -> tuple[list[np.ndarray], float]:
    """Each text spoken and post-processed at RATE (unmarked), and the engine's real-time factor."""
    clips, engine_seconds = [], 0.0
    for text in TEXTS:
        tick = time.perf_counter()
        result = engine.synthesize(reference, SynthesisRequest(text))
        engine_seconds += time.perf_counter() - tick
        clips.append(resample(postprocess(result.audio, result.sample_rate), result.sample_rate, RATE))
    return clips, engine_seconds / (sum(c.size for c in clips) / RATE)


def marked_share(watermarker: Watermarker, clips: list[np.ndarray], attack: Attack) -> tuple[int, int]:
    """(how many clips read as marked after `attack`, how many clips)."""
    found = sum(watermarker.detect(*attack(clip, RATE)).marked for clip in clips)
    return found, len(clips)


def real_recordings() -> dict[str, np.ndarray]:
    examples = importlib.resources.files("f5_tts") / "infer/examples"
    names = ["basic/basic_ref_en.wav", "basic/basic_ref_zh.wav", "multi/main.flac", "multi/town.flac"]
    names.append("multi/country.flac")
    recordings = {}
    for name in names:
        samples, rate = decode((examples / name).read_bytes())
        recordings[name] = resample(samples, rate, RATE)
    return recordings


def synthetic() -> list[np.ndarray]:
    """Unmarked audio no engine made: tones, a chirp, noise, silence, a tone in noise."""
    t = np.arange(4 * RATE, dtype=np.float32) / RATE
    rng = np.random.default_rng(7)
    return [
        0.3 * np.sin(2 * np.pi * 220 * t),
        0.3 * np.sin(2 * np.pi * 1000 * t),
        0.3 * np.sin(2 * np.pi * (100 + 900 * t) * t),
        0.1 * rng.standard_normal(t.size).astype(np.float32),
        np.zeros(t.size, np.float32),
        0.2 * np.sin(2 * np.pi * 440 * t) + 0.05 * rng.standard_normal(t.size).astype(np.float32),
    ]


def per_second(operation: Callable[[], object], seconds: float) -> float:
    tick = time.perf_counter()
    operation()
    return (time.perf_counter() - tick) / seconds


def main() -> None:
    watermarker = Watermarker()
    watermarker.load()
    audio, rate = decode(reference_speech())
    reference = ReferenceVoice("bench", audio, rate, REFERENCE_TEXT)
    header = f"{'':<30}" + "".join(f"{name:>12}" for name in ATTACKS)
    detection, unmarked_outputs, costs = [], [], []
    with tempfile.TemporaryDirectory() as folder:
        build_tiny_f5(Path(folder))
        engines: dict[str, Engine] = {
            "formant": load_engine("formant"),
            "vits": load_engine("vits"),
            "f5tts (tiny random model)": F5TTSEngine(Path(folder), device="cpu"),
        }
        for name, engine in engines.items():
            raw, rtf = spoken(engine, reference)
            seconds = sum(c.size for c in raw) / RATE
            marked = [watermarker.mark(clip, RATE) for clip in raw]  # warm-up and the clips
            mark_cost = per_second(lambda raw=raw: [watermarker.mark(c, RATE) for c in raw], seconds)
            check_cost = per_second(lambda marked=marked: [watermarker.detect(c, RATE) for c in marked], seconds)
            costs.append(f"{name:<30}{rtf:>12.3f}{mark_cost:>12.4f}{check_cost:>12.4f}")
            detection.append((name, [marked_share(watermarker, marked, attack) for attack in ATTACKS.values()]))
            unmarked_outputs += raw

    print(f"Detection rate of marked outputs ({len(TEXTS)} clips per engine, {RATE} Hz)")
    print(header)
    for name, shares in detection:
        print(f"{name:<30}" + "".join(f"{found / total:>12.2f}" for found, total in shares))
    print("\nFalse positives on unmarked audio (clips read as marked / clips)")
    print(header)
    unmarked = {
        "real recordings (wheels)": list(real_recordings().values()),
        "engine outputs, unmarked": unmarked_outputs,
        "synthetic (tones, noise...)": synthetic(),
    }
    for name, clips in unmarked.items():
        shares = [marked_share(watermarker, clips, attack) for attack in ATTACKS.values()]
        print(f"{name:<30}" + "".join(f"{f'{found}/{total}':>12}" for found, total in shares))
    print("\nCost in seconds (wall clock, this machine) per second of audio")
    print(f"{'engine':<30}{'engine RTF':>12}{'mark':>12}{'check':>12}")
    print("\n".join(costs))


if __name__ == "__main__":
    main()
