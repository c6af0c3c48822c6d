"""The API under load on the local stack: throughput and latency beside `/health`, and memory.

Each phase runs PHASE_SECONDS with N concurrent clients (1, 8, 32), each client a thread
with its own keep-alive connection, sending one kind of request back to back:
- `GET /health` (no auth, no AWS call: what the server and framework cost),
- `POST /api/v1/job` (auth, rate limit, quota, idempotency off, DynamoDB put, SQS send, event),
- `GET /api/v1/job/{id}` (auth, rate limit, one DynamoDB read).
The ratio of a route's median latency to /health's at the same concurrency is what our code
costs. The worker runs meanwhile (the created jobs are real work for it), and the peak RSS of
the API and worker processes is sampled throughout.
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import psutil

from tests.fixtures.local_stack import LocalStackProcess, voice_over_http

PHASE_SECONDS = 5.0
CONCURRENCY = (1, 8, 32)


class PeakMemory(threading.Thread):
    """Samples the resident memory of the stack's API and worker processes."""

    def __init__(self, root_pid: int) -> None:
        super().__init__(daemon=True)
        self.root = psutil.Process(root_pid)
        self.peaks: dict[str, int] = {"api": 0, "worker": 0}
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(0.2):
            for child in self.root.children(recursive=True):
                try:
                    command = " ".join(child.cmdline())
                    role = "api" if "uvicorn" in command else "worker" if "voxify_worker" in command else None
                    if role:
                        self.peaks[role] = max(self.peaks[role], child.memory_info().rss)
                except psutil.Error:
                    continue


def phase(
    base: str, headers: dict[str, str], clients: int, send: Callable[[httpx.Client], httpx.Response]
) -> tuple[list[float], int]:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    deadline = time.monotonic() + PHASE_SECONDS

    def client_loop() -> None:
        nonlocal errors
        with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
            while time.monotonic() < deadline:
                start = time.perf_counter()
                response = send(http)
                elapsed = time.perf_counter() - start
                with lock:
                    latencies.append(elapsed)
                    errors += response.status_code >= 400

    threads = [threading.Thread(target=client_loop) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        stack = LocalStackProcess(
            Path(folder) / "data",
            env={"VOXIFY_RATE_LIMIT_PER_MINUTE": "100000000", "VOXIFY_DAILY_JOB_QUOTA": "100000000"},
        ).start()
        assert stack.process is not None
        memory = PeakMemory(stack.process.pid)
        memory.start()
        try:
            api, voice = voice_over_http(stack, "load@example.com")
            headers = {"Authorization": api.headers["Authorization"]}
            job_id = api.post("/api/v1/job", json={"text_content": "Hi.", "voice_model_id": voice}).json()["data"][
                "job_id"
            ]
            routes: dict[str, Callable[[httpx.Client], httpx.Response]] = {
                "GET /health": lambda http: http.get("/health"),
                "POST /api/v1/job": lambda http: http.post(
                    "/api/v1/job", json={"text_content": "Hi.", "voice_model_id": voice}
                ),
                "GET /api/v1/job/{id}": lambda http: http.get(f"/api/v1/job/{job_id}"),
            }
            print(
                f"{'route':22s} {'clients':>7s} {'req/s':>7s} {'p50 ms':>7s} {'p95 ms':>7s} {'p99 ms':>7s} "
                f"{'errors':>6s} {'p50 / health':>12s}"
            )
            for clients in CONCURRENCY:
                health_p50 = None
                for name, send in routes.items():
                    latencies, errors = phase(stack.api, headers, clients, send)
                    p50 = statistics.median(latencies)
                    health_p50 = health_p50 or p50
                    print(
                        f"{name:22s} {clients:7d} {len(latencies) / PHASE_SECONDS:7.1f} {p50 * 1000:7.1f} "
                        f"{percentile(latencies, 0.95) * 1000:7.1f} {percentile(latencies, 0.99) * 1000:7.1f} "
                        f"{errors:6d} {p50 / health_p50:12.1f}"
                    )
        finally:
            memory.stopped.set()
            stack.stop()
        print(f"peak RSS: API {memory.peaks['api'] / 2**20:.0f} MiB, worker {memory.peaks['worker'] / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
