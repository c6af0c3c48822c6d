"""Time to first audio byte of a streamed 5-sentence text on the local stack, beside the
engine's own time for the first sentence (target: first byte within that + 150 ms) and the
whole text's synthesis time.

Runs the whole local stack (as `make up` does) in a temporary data folder, creates a voice,
then streams the text as WAV RUNS times (after one warm-up that also prepares the voice) and
times the first byte after the 44-byte header. The engine's first-sentence time, and what the
worker does to that sentence before its first piece can be stored (post-processing, the mark
of the head: work/streaming.py), are measured in this process with the same engine and
reference speech, beside what marking the whole sentence would cost (the first piece before
heads were split off). What remains of the first byte (storing the piece, recording it in the
job item, the API's poll and read) is the rest of the time from claim to first byte. The
whole-text time is the engine seconds the job records, and the stream's end is when its last
byte arrived.
"""

from __future__ import annotations

import io
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import soundfile as sf

from tests.fixtures.local_stack import LocalStackProcess, poll, voice_over_http
from tests.fixtures.worker import REFERENCE_TEXT, reference_speech
from voxify_worker.audio import postprocess, resample
from voxify_worker.audio.watermark import Watermarker
from voxify_worker.engines.base import ReferenceVoice, SynthesisRequest
from voxify_worker.engines.registry import load_engine
from voxify_worker.work.streaming import StreamAudio

RUNS = 5
RATE = 22_050
WAV_HEADER_BYTES = 44
SENTENCES = [
    "Streaming lets a listener hear the first sentence while the rest is still being made.",
    "The worker stores each sentence as soon as the engine has spoken it.",
    "The interface forwards every piece the moment the job record counts it.",
    "Nobody waits for the whole paragraph before the first word plays.",
    "This is the fifth and last sentence of the test.",
]
TEXT = " ".join(SENTENCES)


@dataclass(frozen=True)
class Run:
    first_byte: float  # seconds from the request to the first audio byte
    last_byte: float
    claimed: float  # seconds from the request to the worker's claim of the job
    engine_seconds: float  # the job's own record of its engine time, whole text


def stream_once(api: httpx.Client, voice: str) -> Run:
    """One stream, timed, and its job once completed."""
    body = {"text": TEXT, "voice_id": voice, "config": {"output_format": "wav", "sample_rate": RATE}}
    requested = datetime.now(UTC)
    start = time.monotonic()
    first = None
    received = 0
    with api.stream("POST", "/api/v1/tts/synthesize/stream", json=body, timeout=300) as response:
        response.raise_for_status()
        for part in response.iter_raw():
            received += len(part)
            if first is None and received > WAV_HEADER_BYTES:
                first = time.monotonic() - start
        job_id = response.headers["x-job-id"]
    last = time.monotonic() - start
    if first is None:
        raise RuntimeError("the stream carried no audio")
    job = poll(
        lambda: api.get(f"/api/v1/job/{job_id}").json()["data"],
        lambda j: j["status"] in ("completed", "failed", "cancelled"),
        interval=0.1,
    )
    claimed = (datetime.fromisoformat(job["started_at"]) - requested).total_seconds()
    return Run(first, last, claimed, job["engine"]["engine_seconds"])


@dataclass(frozen=True)
class FirstSentenceTimes:
    engine: float  # seconds the engine takes for the first sentence
    first_piece: float  # the worker's work on it before its first piece is ready to store
    whole_mark: float  # post-processing and marking the whole sentence as one piece


class FirstSentence:
    """The engine the stack runs, with the same reference speech, in this process: its time
    for the first sentence, and what the worker does to it before the first piece goes out."""

    def __init__(self) -> None:
        samples, rate = sf.read(io.BytesIO(reference_speech()), dtype="float32")
        self.reference = ReferenceVoice("bench", samples, rate, REFERENCE_TEXT)
        self.engine = load_engine()
        self.marker = Watermarker()
        self.marker.load()
        self.engine.synthesize(self.reference, SynthesisRequest(SENTENCES[0]))  # learns the voice once

    def seconds(self) -> FirstSentenceTimes:
        tick = time.monotonic()
        result = self.engine.synthesize(self.reference, SynthesisRequest(SENTENCES[0]))
        engine = time.monotonic() - tick
        tick = time.monotonic()
        next(StreamAudio("wav", RATE, self.marker).speech(result.audio, result.sample_rate))
        first_piece = time.monotonic() - tick
        tick = time.monotonic()
        self.marker.mark(resample(postprocess(result.audio, result.sample_rate), result.sample_rate, RATE), RATE)
        return FirstSentenceTimes(engine, first_piece, time.monotonic() - tick)


def main() -> None:
    first_sentence = FirstSentence()
    with tempfile.TemporaryDirectory() as folder:
        stack = LocalStackProcess(Path(folder) / "data", env={"VOXIFY_RATE_LIMIT_PER_MINUTE": "1000000"}).start()
        try:
            api, voice = voice_over_http(stack, "bench@example.com")
            stream_once(api, voice)  # the first stream also prepares the voice in the worker
            runs, firsts = [], []
            for _ in range(RUNS):  # in turn, so that both see the same load on the machine
                firsts.append(first_sentence.seconds())
                runs.append(stream_once(api, voice))
        finally:
            stack.stop()
    report(runs, firsts)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def report(runs: list[Run], firsts: list[FirstSentenceTimes]) -> None:
    ttfb = statistics.median(r.first_byte for r in runs)
    engine = statistics.median(f.engine for f in firsts)
    claimed = statistics.median(r.claimed for r in runs)
    piece = statistics.median(f.first_piece for f in firsts)
    whole = statistics.median(f.whole_mark for f in firsts)
    print(
        f"streaming, 5 sentences as WAV at {RATE} Hz, {RUNS} runs (median): time to first audio byte {ms(ttfb)} "
        f"(min {ms(min(r.first_byte for r in runs))}, max {ms(max(r.first_byte for r in runs))}); "
        f"engine, first sentence {ms(engine)}: target first byte <= {ms(engine + 0.15)}, "
        f"{'met' if ttfb <= engine + 0.15 else 'not met'}; first byte - engine: {ms(ttfb - engine)}\n"
        f"  of the first byte: request to the worker's claim {ms(claimed)}; claim to first byte {ms(ttfb - claimed)}: "
        f"the engine's first sentence, the first piece's post-processing + head mark {ms(piece)} "
        f"(the whole sentence's would be {ms(whole)}, {whole / max(piece, 1e-9):.1f}x), and the rest "
        f"(store, record, the API's poll and read) {ms(ttfb - claimed - engine - piece)}\n"
        f"  whole text: engine {ms(statistics.median(r.engine_seconds for r in runs))}, "
        f"last byte {ms(statistics.median(r.last_byte for r in runs))}"
    )


if __name__ == "__main__":
    main()
