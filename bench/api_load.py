"""The API under load on the local stack, beside the floor of the AWS calls it must make.

Each phase runs PHASE_SECONDS with N concurrent clients (1, 8, 32), each client a thread
with its own keep-alive connection, sending one kind of request back to back:
- `GET /health` (no auth, no AWS call: what the server and framework cost),
- `POST /api/v1/job` (auth, one transaction holding the job, quota and rate-limit steps and
  the voice check, one SQS send), and the same two calls from a bare ASGI app
  (bench/minimal_api.py) run by the same server with the API's environment and role,
- `GET /api/v1/job/{id}` (auth, one DynamoDB read), and that one read from the bare app.
The ratio of a route's median latency to the bare app's at the same concurrency is what our
code costs beyond its unavoidable AWS calls; both run in the same run, against the same
emulator. The worker runs meanwhile (the created jobs are real work for it), and the peak
RSS of the API and worker processes is sampled throughout.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import psutil

from tests.fixtures.aws import free_port
from tests.fixtures.local_stack import ROOT, LocalStackProcess, voice_over_http

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


Send = Callable[[httpx.Client], httpx.Response]


def api_environment(root_pid: int) -> dict[str, str]:
    """The environment (endpoint, resource names, role credentials) the stack's API runs with."""
    for child in psutil.Process(root_pid).children(recursive=True):
        if "voxify.http.app" in " ".join(child.cmdline()):
            return dict(child.environ())
    raise RuntimeError("the local stack runs no API process")


def start_floor(environment: dict[str, str], user_id: str, voice: str) -> tuple[subprocess.Popen[bytes], str]:
    """bench/minimal_api.py served as the API is (uvicorn, one process, same environment)."""
    port = free_port()
    process = subprocess.Popen(  # fixed argv
        [sys.executable, "-m", "uvicorn", "bench.minimal_api:app", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT,
        env={**environment, "BENCH_USER_ID": user_id, "BENCH_VOICE_ID": voice},
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{base}/", timeout=1)
            return process, base
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise TimeoutError("the minimal app did not start")


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        stack = LocalStackProcess(
            Path(folder) / "data",
            env={"VOXIFY_RATE_LIMIT_PER_MINUTE": "100000000", "VOXIFY_DAILY_JOB_QUOTA": "100000000"},
        ).start()
        assert stack.process is not None
        memory = PeakMemory(stack.process.pid)
        memory.start()
        floor_process = None
        try:
            api, voice = voice_over_http(stack, "load@example.com")
            headers = {"Authorization": api.headers["Authorization"]}
            user_id = api.get("/api/v1/auth/profile").json()["data"]["user_id"]
            job = {"text_content": "Hi.", "voice_model_id": voice}
            job_id = api.post("/api/v1/job", json=job).json()["data"]["job_id"]
            floor_process, floor = start_floor(api_environment(stack.process.pid), user_id, voice)
            floor_job_id = httpx.post(f"{floor}/job").json()["job_id"]
            routes: dict[str, tuple[Send, Send]] = {
                "POST job": (lambda http: http.post("/api/v1/job", json=job), lambda http: http.post("/job")),
                "GET job": (
                    lambda http: http.get(f"/api/v1/job/{job_id}"),
                    lambda http: http.get(f"/job/{floor_job_id}"),
                ),
            }
            print(
                f"{'route':10s} {'clients':>7s} {'api p50':>8s} {'floor p50':>9s} {'api/floor':>9s} "
                f"{'api req/s':>9s} {'floor req/s':>11s} {'api p95':>8s} {'errors':>6s} {'health p50':>10s}"
            )
            for clients in CONCURRENCY:
                health, _ = phase(stack.api, headers, clients, lambda http: http.get("/health"))
                for name, (ours, minimal) in routes.items():
                    latencies, errors = phase(stack.api, headers, clients, ours)
                    floor_latencies, floor_errors = phase(floor, {}, clients, minimal)
                    p50, floor_p50 = statistics.median(latencies), statistics.median(floor_latencies)
                    print(
                        f"{name:10s} {clients:7d} {p50 * 1000:8.1f} {floor_p50 * 1000:9.1f} {p50 / floor_p50:9.2f} "
                        f"{len(latencies) / PHASE_SECONDS:9.1f} {len(floor_latencies) / PHASE_SECONDS:11.1f} "
                        f"{percentile(latencies, 0.95) * 1000:8.1f} {errors + floor_errors:6d} "
                        f"{statistics.median(health) * 1000:10.1f}"
                    )
        finally:
            memory.stopped.set()
            if floor_process is not None:
                floor_process.terminate()
                floor_process.wait(10)
            stack.stop()
        print(f"peak RSS: API {memory.peaks['api'] / 2**20:.0f} MiB, worker {memory.peaks['worker'] / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
