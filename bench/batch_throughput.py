"""Drop-folder throughput against the engine called in a loop, measured side by side.

`python -m bench.batch_throughput [--lines N]` (default LINES, 100: the issue's benchmark).

1. The whole local stack (as `make up` runs it, default engine, one worker): a manifest of
   N utterances is put under dropbox/{user}/; the clock runs from the put until the
   batch's report exists. Lines per minute, and the time per line beyond the engine's own
   (taken from each job's engine_seconds).
2. The same engine in this process, called in a loop on the same texts and voice: lines per
   minute with nothing around it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import boto3

from tests.fixtures.local_stack import LocalStackProcess, poll, voice_over_http
from tests.fixtures.worker import REFERENCE_TEXT, reference_speech
from voxify_worker.audio import decode
from voxify_worker.engines.base import ReferenceVoice, SynthesisRequest
from voxify_worker.engines.registry import load_engine

LINES = 100
# How often the bench asks whether the batch is done: each ask costs the API and the emulator
# CPU that the stack under test shares (two cores here); half a second is fine grained enough
# for a run of minutes.
POLL_SECONDS = 0.5


def texts(lines: int) -> list[str]:
    return [f"This is line {i} of the batch, read aloud in a cloned voice." for i in range(1, lines + 1)]


def through_the_drop_folder(texts: list[str]) -> tuple[float, list[float], str]:
    with tempfile.TemporaryDirectory() as folder:
        stack = LocalStackProcess(Path(folder) / "data", env={"VOXIFY_RATE_LIMIT_PER_MINUTE": "1000000"}).start()
        try:
            api, voice = voice_over_http(stack, "bench-batch@example.com")
            user_id = api.get("/api/v1/auth/profile").json()["data"]["user_id"]
            s3 = boto3.client(
                "s3",
                endpoint_url=stack.emulator,
                region_name="us-east-1",
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )
            bucket = next(b["Name"] for b in s3.list_buckets()["Buckets"] if "-audio-" in b["Name"])
            manifest = "".join(json.dumps({"text": t, "voice_id": voice}) + "\n" for t in texts).encode()
            start = time.monotonic()
            s3.put_object(Bucket=bucket, Key=f"dropbox/{user_id}/bench.jsonl", Body=manifest)
            batch = poll(
                lambda: next(iter(api.get("/api/v1/batches").json()["data"]), None),
                lambda b: b is not None and b["status"] in ("completed", "completed_with_errors", "failed"),
                timeout=600 + 6 * len(texts),
                interval=POLL_SECONDS,
            )
            elapsed = time.monotonic() - start
            lines = api.get(f"/api/v1/batches/{batch['batch_id']}", params={"include_lines": True}).json()["data"]
            engine = [
                api.get(f"/api/v1/job/{line['job_id']}").json()["data"]["engine"]["engine_seconds"]
                for line in lines["lines"]
            ]
            return elapsed, engine, batch["status"]
        finally:
            stack.stop()


def engine_in_a_loop(texts: list[str]) -> tuple[float, str]:
    engine = load_engine()
    audio, rate = decode(reference_speech())
    reference = ReferenceVoice(
        voice_id="bench", audio=audio, sample_rate=rate, transcript=REFERENCE_TEXT, language="en"
    )
    engine.synthesize(reference, SynthesisRequest(texts[0]))  # warm-up, as the worker's first job
    start = time.monotonic()
    for text in texts:
        engine.synthesize(reference, SynthesisRequest(text))
    return time.monotonic() - start, engine.name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=LINES, help=f"utterances in the manifest (default {LINES})")
    lines = parser.parse_args().lines
    utterances = texts(lines)
    loop_seconds, engine_name = engine_in_a_loop(utterances)
    batch_seconds, engine_seconds, status = through_the_drop_folder(utterances)
    overhead = (batch_seconds - sum(engine_seconds)) / lines
    print(
        f"drop-folder batch of {lines} lines ({engine_name} engine, one worker): {batch_seconds:.1f} s, "
        f"{lines / batch_seconds * 60:.0f} lines/min, status {status}"
    )
    print(
        f"engine in a loop, same texts: {loop_seconds:.1f} s, {lines / loop_seconds * 60:.0f} lines/min "
        f"(ratio batch/loop {batch_seconds / loop_seconds:.2f}; drop folder at "
        f"{loop_seconds / batch_seconds:.2f}x the loop's lines/min)"
    )
    print(
        f"per line: engine {statistics.median(engine_seconds) * 1000:.0f} ms (median, in the worker), "
        f"overhead beyond the engine {overhead * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
