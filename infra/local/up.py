"""`make up`: the whole Voxify stack on one machine.

Starts the embedded AWS emulator (unless AWS_ENDPOINT_URL already names one, such as
LocalStack), creates the resources of template.yaml, restores the data kept under the data
folder, then runs the API (uvicorn), the worker and the event-source runner until Ctrl-C.

Each component runs with the IAM role template.yaml gives it: the API process as the API
function's role, the worker process as the worker's task role, each SQS-triggered function
(in the runner) as its own; the embedded emulator enforces their policies, so a permission
the template lacks fails here as it would in AWS. The stack itself (provisioning, snapshots)
acts as the operator, the account's root.
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
from botocore.exceptions import BotoCoreError, ClientError

from infra.local import faults, iam_enforcement
from infra.local.bootstrap import Bootstrap, LocalResources
from infra.local.emulator import DEFAULT_PORT, EmbeddedEmulator, endpoint_is_up, use_fake_credentials
from infra.local.event_sources import EventSourceRunner
from infra.local.snapshot import EmulatorSnapshot

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA_DIR = REPO_ROOT / ".voxify"
SNAPSHOT_INTERVAL_SECONDS = 10.0
WATCH_INTERVAL_SECONDS = 2.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--api-port", type=int, default=int(os.environ.get("VOXIFY_API_PORT", 8000)))
    parser.add_argument("--emulator-port", type=int, default=int(os.environ.get("VOXIFY_EMULATOR_PORT", DEFAULT_PORT)))
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("VOXIFY_DATA_DIR", DEFAULT_DATA_DIR)))
    parser.add_argument("--no-worker", action="store_true", help="do not start the worker")
    parser.add_argument(
        "--no-iam-enforcement",
        action="store_true",
        help="let the embedded emulator allow every call (components still run as their roles)",
    )
    parser.add_argument(
        "--throttle-events",
        type=float,
        default=float(os.environ.get("VOXIFY_LOCAL_THROTTLE_EVENTS", 0)),
        metavar="RATE",
        help="the embedded emulator refuses this fraction of published events as throttled (resilience runs)",
    )
    return parser.parse_args(argv)


MAX_RESTARTS_PER_MINUTE = 20


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
            self.emulator = EmbeddedEmulator(self.args.emulator_port, enforce_iam=not self.args.no_iam_enforcement)
            self.emulator.start()
            faults.throttle_event_publishing(self.args.throttle_events)
            endpoint = self.emulator.url
            os.environ["AWS_ENDPOINT_URL"] = endpoint
        session = boto3.session.Session()
        bootstrap = self.bootstrap = Bootstrap(session, endpoint)
        self._dynamodb = session.client("dynamodb", endpoint_url=endpoint)
        self._sqs = session.client("sqs", endpoint_url=endpoint)
        self.resources = bootstrap.create(notifications=False)
        if self.emulator:
            self.snapshot = EmulatorSnapshot(self.args.data_dir / "emulator", session, endpoint)
            restored = self.snapshot.restore(self.resources)
            print(f"restored from {self.args.data_dir}: {restored}", flush=True)
        bootstrap.apply_notifications(self.resources)

        os.environ.update(self.resources.environment)
        # made before anything writes: its stream pollers start at the stream's end as it is now
        self.runner = EventSourceRunner(
            self.resources.mappings,
            session.client("sqs", endpoint_url=endpoint),
            bootstrap.region,
            bootstrap.account,
            self.resources.schedules,
            self.resources.streams,
        )
        self._start_api()
        if not self.args.no_worker:
            self._start_worker()
        self.runner.start()
        threading.Thread(target=self._maintain, daemon=True).start()
        self._wait_for_api()
        self._print_summary(endpoint)

    def _start_api(self) -> None:
        assert self.resources is not None
        self.processes["api"] = subprocess.Popen(  # fixed argv
            [
                sys.executable,
                "-m",
                "uvicorn",
                "voxify.http.app:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.args.api_port),
                "--log-level",
                "warning",
            ],
            cwd=REPO_ROOT,
            env={**os.environ, **self._role_environment(self.resources.http_function)},
        )

    def _start_worker(self) -> None:
        assert self.resources is not None
        env = {
            **os.environ,
            **self.resources.worker_environment,
            **self._role_environment(self.resources.worker_task),
            "VOXIFY_WORKER_POLL_WAIT_SECONDS": "2",
        }
        self.processes["worker"] = subprocess.Popen(  # fixed argv
            [sys.executable, "-m", "voxify_worker"],
            cwd=REPO_ROOT,
            env=env,
        )

    def _role_environment(self, component: str) -> dict[str, str]:
        """The credentials of `component`'s role, for its process's environment."""
        assert self.resources is not None
        credentials = self.resources.principals.get(component)
        return credentials.environment() if credentials else {}

    def _wait_for_api(self, timeout: float = 60.0) -> None:
        url = f"http://127.0.0.1:{self.args.api_port}/health"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.processes["api"].poll() is not None:
                raise SystemExit("the API process exited during start-up")
            try:
                urllib.request.urlopen(url, timeout=1)  # loopback
                return
            except OSError:
                time.sleep(0.2)
        raise SystemExit(f"the API did not answer {url} within {timeout:.0f}s")

    def _print_summary(self, endpoint: str) -> None:
        assert self.resources is not None and self.runner is not None
        api = f"http://127.0.0.1:{self.args.api_port}"
        worker = f"pid {self.processes['worker'].pid}" if "worker" in self.processes else "not started"
        lines = [
            "",
            "Voxify local stack is up",
            f"  API            {api}   (docs {api}/docs)",
            f"  Studio         {api}/studio/",
            f"  AWS emulator   {endpoint}" + ("" if self.emulator else "   (external)"),
            f"  data folder    {self.args.data_dir}"
            if self.snapshot
            else "  data folder    kept by the external endpoint",
            f"  worker         {worker}",
            "  IAM            "
            + (
                "enforced: each component runs as its template role"
                if iam_enforcement.enabled() and self.emulator
                else "components run as their template roles; the emulator decides what it enforces"
            ),
        ]
        lines += [
            f"  function       {p.mapping.function_name:<28} <- {p.mapping.queue_url}" for p in self.runner.pollers
        ]
        lines += [
            f"  function       {t.mapping.function_name:<28} <- {t.mapping.stream_arn}" for t in self.runner.streams
        ]
        lines += [
            f"  function       {s.schedule.function_name:<28} <- every {s.schedule.period_seconds:.0f}s"
            for s in self.runner.schedules
        ]
        lines += [f"  {kind.split('::')[1].lower():<14} {name}" for kind, name in self.resources.created.values()]
        lines += ["", "Press Ctrl-C to stop.", ""]
        print("\n".join(lines), flush=True)

    def _maintain(self) -> None:
        """Every few seconds, check the emulator still holds the stack; every
        SNAPSHOT_INTERVAL_SECONDS, save its data (embedded emulator only)."""
        last_save = time.monotonic()
        while not self._stop.wait(WATCH_INTERVAL_SECONDS):
            try:
                if not self._resources_present():
                    self._recover()
                elif self.snapshot and time.monotonic() - last_save >= SNAPSHOT_INTERVAL_SECONDS:
                    assert self.resources is not None
                    self.snapshot.save(self.resources)
                    last_save = time.monotonic()
            except Exception as error:  # try again next interval
                print(f"emulator upkeep failed: {error}", file=sys.stderr, flush=True)

    def _resources_present(self) -> bool:
        """False once an emulator that restarted (or was reset) comes back without our
        resources; True while it is unreachable, since there is nothing to do then."""
        try:
            self._dynamodb.describe_table(TableName=os.environ["VOXIFY_TABLE_NAME"])
            self._sqs.get_queue_url(QueueName=os.environ["VOXIFY_JOBS_QUEUE_URL"].rsplit("/", 1)[-1])
        except ClientError:
            return False
        except BotoCoreError:
            return True
        return True

    def _recover(self) -> None:
        """Put the template's resources back, and with the embedded emulator the last saved
        data, so the API, worker and functions carry on without anyone restarting them."""
        print("the emulator lost the stack's resources; recreating them", file=sys.stderr, flush=True)
        resources = self.bootstrap.create(notifications=False)
        if self.snapshot:
            restored = self.snapshot.restore(resources)
            print(f"restored from {self.args.data_dir}: {restored}", file=sys.stderr, flush=True)
        self.bootstrap.apply_notifications(resources)
        self.resources = resources
        print("the stack's resources are back", file=sys.stderr, flush=True)

    def wait(self) -> None:
        """Supervise like a container service: a process that dies is started again (the API
        and the worker keep no state of their own; a killed worker's job is taken over when
        its lease lapses), unless it keeps dying."""
        starters = {"api": self._start_api, "worker": self._start_worker}
        restarts: dict[str, list[float]] = {}
        while not self._stop.is_set():
            for name, process in list(self.processes.items()):
                if process.poll() is None:
                    continue
                now = time.monotonic()
                recent = [t for t in restarts.get(name, []) if now - t < 60]
                if len(recent) >= MAX_RESTARTS_PER_MINUTE:
                    print(
                        f"{name} exited with {process.returncode} {len(recent)} times in a minute; stopping",
                        file=sys.stderr,
                        flush=True,
                    )
                    self._stop.set()
                    break
                print(f"{name} exited with {process.returncode}; starting it again", file=sys.stderr, flush=True)
                restarts[name] = [*recent, now]
                starters[name]()
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
