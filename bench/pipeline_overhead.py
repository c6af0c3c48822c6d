"""End-to-end latency of a short job through API + queue + worker, minus the engine's time.

Runs the whole local stack (as `make up` does) in a temporary data folder, creates a voice,
then submits short jobs one at a time and polls each until completed. Overhead = wall time
from the create request to the completed record, minus the engine's own seconds recorded on
the job. Median of RUNS jobs.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from tests.fixtures.local_stack import LocalStackProcess, poll, voice_over_http

RUNS = 7
POLL_SECONDS = 0.05


def job_record(api: httpx.Client, job_id: str) -> Any:
    return api.get(f"/api/v1/job/{job_id}").json()["data"]


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        # polling every 50 ms would trip the 100 requests/minute limit; lift it for the bench
        stack = LocalStackProcess(Path(folder) / "data", env={"VOXIFY_RATE_LIMIT_PER_MINUTE": "1000000"}).start()
        try:
            api, voice = voice_over_http(stack, "bench@example.com")
            totals, engines = [], []
            for i in range(RUNS + 1):
                start = time.monotonic()
                job = api.post(
                    "/api/v1/job", json={"text_content": "Hello there, friend.", "voice_model_id": voice}
                ).json()["data"]
                done = poll(
                    partial(job_record, api, job["job_id"]),
                    lambda j: j["status"] in ("completed", "failed"),
                    interval=POLL_SECONDS,
                )
                if i == 0:
                    continue  # the first job also prepares the voice
                totals.append(time.monotonic() - start)
                engines.append(done["engine"]["engine_seconds"])
            overheads = [t - e for t, e in zip(totals, engines, strict=True)]
            print(
                f"short job, {RUNS} runs (median): end-to-end {statistics.median(totals) * 1000:.0f} ms, "
                f"engine {statistics.median(engines) * 1000:.0f} ms, "
                f"pipeline overhead {statistics.median(overheads) * 1000:.0f} ms "
                f"(min {min(overheads) * 1000:.0f}, max {max(overheads) * 1000:.0f})"
            )
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
