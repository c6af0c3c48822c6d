"""The worker killed with SIGKILL (or stalled past its lease while the bus throttles
events), again and again, while it works through a run of jobs.

Every accepted job must end completed (or failed with a reason), none twice, none lost, and
every output must be its own job's audio. The local stack restarts the dead worker as a
container service would; a short lease (VOXIFY_WORKER_LEASE_SECONDS) lets the killed job's
message come back and its claim be taken over within seconds.

`make test` runs 20 jobs; `make resilience` runs VOXIFY_RESILIENCE_JOBS=200.
"""

import io
import json
import os
import random
import time

import boto3
import psutil
import pytest
import soundfile as sf

from tests.fixtures.local_stack import LocalStackProcess, voice_over_http

JOBS = int(os.environ.get("VOXIFY_RESILIENCE_JOBS", "20"))
KILLS = max(3, JOBS // 5)
LEASE_SECONDS = 6
TERMINAL = {"completed", "failed", "cancelled"}

pytestmark = pytest.mark.e2e


def worker_of(stack: LocalStackProcess) -> psutil.Process | None:
    assert stack.process is not None
    for child in psutil.Process(stack.process.pid).children(recursive=True):
        try:
            if "voxify_worker" in " ".join(child.cmdline()):
                return child
        except psutil.Error:
            continue
    return None


def all_jobs(api) -> list[dict]:
    jobs, offset = [], 0
    while True:
        page = api.get("/api/v1/job", params={"limit": 100, "offset": offset, "include_text": False}).json()
        jobs += page["data"]
        if not page["meta"]["pagination"]["has_more"]:
            return jobs
        offset += 100


def subscribe_to_job_events(stack: LocalStackProcess) -> str:
    session = {
        "endpoint_url": stack.emulator,
        "region_name": "us-east-1",
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }
    sqs, events = boto3.client("sqs", **session), boto3.client("events", **session)
    url = sqs.create_queue(QueueName="resilience-job-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(
        Name="resilience",
        EventBusName="voxify-local",
        EventPattern=json.dumps({"source": ["voxify"], "detail-type": ["Job State Change"]}),
    )
    events.put_targets(Rule="resilience", EventBusName="voxify-local", Targets=[{"Id": "q", "Arn": arn}])
    return url


def received_events(stack: LocalStackProcess, url: str) -> list[dict]:
    sqs = boto3.client(
        "sqs",
        endpoint_url=stack.emulator,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    got = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages"):
        got += [json.loads(m["Body"])["detail"] for m in messages]
        sqs.delete_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
        )
    return got


def test_jobs_survive_a_worker_killed_again_and_again(tmp_path):
    def kill(worker: psutil.Process) -> None:
        worker.kill()

    run_jobs_through(tmp_path, kill, {})


def test_jobs_survive_a_worker_stalled_past_its_lease_while_events_are_throttled(tmp_path):
    """A stalled worker (a GC pause, a frozen VM) wakes after its claim was lost: it must not
    finish or delete what a takeover owns; a throttled bus must not lose a completion."""

    def stall(worker: psutil.Process) -> None:
        worker.suspend()
        time.sleep(LEASE_SECONDS * 2)
        worker.resume()

    run_jobs_through(tmp_path, stall, {"VOXIFY_LOCAL_THROTTLE_EVENTS": "0.1"})


def run_jobs_through(tmp_path, disrupt, env: dict[str, str]) -> None:
    """JOBS jobs through the local stack while `disrupt` hits its worker KILLS times, each
    somewhere inside a job; then every job must have ended once, with its own audio."""
    stack = LocalStackProcess(
        tmp_path / "data",
        env={
            "VOXIFY_WORKER_LEASE_SECONDS": str(LEASE_SECONDS),
            "VOXIFY_RATE_LIMIT_PER_MINUTE": "10000000",
            "VOXIFY_DAILY_JOB_QUOTA": "100000",
            **env,
        },
    ).start()
    rng = random.Random(7)
    try:
        api, voice = voice_over_http(stack, "faults@example.com")
        events_url = subscribe_to_job_events(stack)
        accepted = {
            api.post("/api/v1/job", json={"text_content": f"Job number {i} survives.", "voice_model_id": voice}).json()[
                "data"
            ]["job_id"]
            for i in range(JOBS)
        }
        hits, deadline = 0, time.monotonic() + 120 + JOBS * 6
        while time.monotonic() < deadline:
            jobs = all_jobs(api)
            if all(j["status"] in TERMINAL for j in jobs):
                break
            worker = worker_of(stack)
            busy = any(j["status"] == "processing" for j in jobs)
            if hits < KILLS and worker and busy and time.time() - worker.create_time() > 3:
                time.sleep(rng.uniform(0.1, 1.0))  # somewhere inside a job
                disrupt(worker)
                hits += 1
            time.sleep(0.5)
        check_every_job_ended_once(api, stack, accepted, events_url)
        assert hits == KILLS
    finally:
        stack.stop()


def check_every_job_ended_once(api, stack: LocalStackProcess, accepted: set[str], events_url: str) -> None:
    jobs = {j["job_id"]: j for j in all_jobs(api)}
    assert set(jobs) == accepted  # none lost, none invented
    unfinished = [j for j in jobs.values() if j["status"] not in TERMINAL]
    assert not unfinished, unfinished
    failed = [j for j in jobs.values() if j["status"] != "completed"]
    assert all(j["error_code"] and j["error_message"] for j in failed), failed
    assert len(failed) <= JOBS // 20, failed  # a job killed five times over may run out of deliveries

    completed = {j for j, job in jobs.items() if job["status"] == "completed"}
    # Completions are announced from the table's stream, not by the worker that wrote them: a
    # worker killed right after its write loses nothing, so every completion arrives, once.
    completions: list[str] = []
    deadline = time.monotonic() + 30  # the last events may still be on their way to the queue
    while not completed <= set(completions) and time.monotonic() < deadline:
        completions += [e["job_id"] for e in received_events(stack, events_url) if e["status"] == "completed"]
    assert set(completions) == completed, completed ^ set(completions)
    assert len(completions) == len(set(completions))  # none announced twice

    for job_id, job in jobs.items():
        if job["status"] != "completed":
            continue
        assert job_id in job["output_key"]
        audio = api.get(f"/api/v1/file/synthesis/{job_id}", params={"inline": 1})
        samples, rate = sf.read(io.BytesIO(audio.content))
        assert abs(len(samples) / rate - job["duration_seconds"]) < 0.05
