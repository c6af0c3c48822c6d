"""`make up`: the whole Voxify stack on one machine.

Starts the embedded AWS emulator (unless AWS_ENDPOINT_URL already names one, such as
LocalStack), creates the resources of template.yaml, restores the data kept under the data
folder, then runs the API (uvicorn), the worker and the event-source runner until Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import boto3

from infra.local.bootstrap import Bootstrap, LocalResources
from infra.local.emulator import DEFAULT_PORT, EmbeddedEmulator, endpoint_is_up, use_fake_credentials
from infra.local.event_sources import EventSourceRunner
from infra.local.snapshot import EmulatorSnapshot

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA_DIR = REPO_ROOT / ".voxify"
SNAPSHOT_INTERVAL_SECONDS = 10.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--api-port", type=int, default=int(os.environ.get("VOXIFY_API_PORT", 8000)))
    parser.add_argument("--emulator-port", type=int,
                        default=int(os.environ.get("VOXIFY_EMULATOR_PORT", DEFAULT_PORT)))
    parser.add_argument("--data-dir", type=Path,
                        default=Path(os.environ.get("VOXIFY_DATA_DIR", DEFAULT_DATA_DIR)))
    parser.add_argument("--no-worker", action="store_true", help="do not start the worker")
    return parser.parse_args(argv)


class LocalStack:
    """The processes and threads of one `make up`."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.emulator: EmbeddedEmulator | None = None
        self.snapshot: EmulatorSnapshot | None = None
        self.resources: LocalResources | None = None
        self.runner: EventSourceRunner | None = None
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self._stop = threading.Event()

    def start(self) -> None:
        endpoint = os.environ.get("AWS_ENDPOINT_URL")
        if endpoint:
            if not endpoint_is_up(endpoint):
                raise SystemExit(f"AWS_ENDPOINT_URL={endpoint} does not answer")
            os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
        else:
            use_fake_credentials()
            self.emulator = EmbeddedEmulator(self.args.emulator_port)
            self.emulator.start()
            endpoint = self.emulator.url
            os.environ["AWS_ENDPOINT_URL"] = endpoint
        session = boto3.session.Session()
        bootstrap = Bootstrap(session, endpoint)
        self.resources = bootstrap.create(notifications=False)
        if self.emulator:
            self.snapshot = EmulatorSnapshot(self.args.data_dir / "emulator", session, endpoint)
            restored = self.snapshot.restore(self.resources)
            print(f"restored from {self.args.data_dir}: {restored}", flush=True)
        bootstrap.apply_notifications(self.resources)

        os.environ.update(self.resources.environment)
        os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
        os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
        self._start_api()
        if not self.args.no_worker:
            self._start_worker()
        self.runner = EventSourceRunner(
            self.resources.mappings, session.client("sqs", endpoint_url=endpoint),
            bootstrap.region, bootstrap.account,
        )
        self.runner.start()
        if self.snapshot:
            threading.Thread(target=self._snapshot_periodically, daemon=True).start()
        self._wait_for_api()
        self._print_summary(endpoint)

    def _start_api(self) -> None:
        self.processes["api"] = subprocess.Popen(  # noqa: S603 - fixed argv
            [sys.executable, "-m", "uvicorn", "voxify.http.app:create_app", "--factory",
             "--host", "127.0.0.1", "--port", str(self.args.api_port), "--log-level", "warning"],
            cwd=REPO_ROOT, env=dict(os.environ),
        )

    def _start_worker(self) -> None:
        assert self.resources is not None
        env = {**os.environ, **self.resources.worker_environment,
               "VOXIFY_WORKER_POLL_WAIT_SECONDS": "2"}
        self.processes["worker"] = subprocess.Popen(  # noqa: S603 - fixed argv
            [sys.executable, "-m", "voxify_worker"], cwd=REPO_ROOT, env=env,
        )

    def _wait_for_api(self, timeout: float = 60.0) -> None:
        url = f"http://127.0.0.1:{self.args.api_port}/health"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.processes["api"].poll() is not None:
                raise SystemExit("the API process exited during start-up")
            try:
                urllib.request.urlopen(url, timeout=1)  # noqa: S310 - loopback
                return
            except OSError:
                time.sleep(0.2)
        raise SystemExit(f"the API did not answer {url} within {timeout:.0f}s")

    def _print_summary(self, endpoint: str) -> None:
        assert self.resources is not None and self.runner is not None
        api = f"http://127.0.0.1:{self.args.api_port}"
        lines = [
            "",
            "Voxify local stack is up",
            f"  API            {api}   (docs {api}/docs)",
            f"  AWS emulator   {endpoint}" + ("" if self.emulator else "   (external)"),
            f"  data folder    {self.args.data_dir}" if self.snapshot else "  data folder    kept by the external endpoint",
            f"  worker         {'pid ' + str(self.processes['worker'].pid) if 'worker' in self.processes else 'not started'}",
        ]
        lines += [f"  function       {p.mapping.function_name:<28} <- {p.mapping.queue_url}"
                  for p in self.runner.pollers]
        lines += [f"  {kind.split('::')[1].lower():<14} {name}"
                  for kind, name in self.resources.created.values()]
        lines += ["", "Press Ctrl-C to stop.", ""]
        print("\n".join(lines), flush=True)

    def _snapshot_periodically(self) -> None:
        while not self._stop.wait(SNAPSHOT_INTERVAL_SECONDS):
            try:
                assert self.snapshot is not None and self.resources is not None
                self.snapshot.save(self.resources)
            except Exception as error:  # noqa: BLE001 - try again next interval
                print(f"snapshot failed: {error}", file=sys.stderr, flush=True)

    def wait(self) -> None:
        while not self._stop.is_set():
            for name, process in self.processes.items():
                if process.poll() is not None:
                    print(f"{name} exited with {process.returncode}; stopping", file=sys.stderr)
                    self._stop.set()
            self._stop.wait(0.5)

    def request_stop(self) -> None:
        self._stop.set()

    def stop(self) -> None:
        """Stop consumers first, then save everything (queued messages too), then the emulator."""
        self._stop.set()
        if self.runner:
            self.runner.stop()
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        if self.snapshot and self.resources:
            self.snapshot.save(self.resources, drain_queues=True)
            print(f"data saved under {self.args.data_dir}", flush=True)
        if self.emulator:
            self.emulator.stop()


def main(argv: list[str] | None = None) -> None:
    stack = LocalStack(parse_args(argv))
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stack.request_stop())
    try:
        stack.start()
        stack.wait()
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
