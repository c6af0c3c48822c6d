"""Drop-folder batches, state-change events and inbound requests on the whole local stack."""

import io
import json
import time

import httpx
import pytest
import soundfile as sf

from tests.fixtures.events import validate_event
from tests.fixtures.local_stack import LocalStackProcess, aws, poll, voice_over_http

pytestmark = pytest.mark.e2e
BUS = "voxify-local"


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    stack = LocalStackProcess(
        tmp_path_factory.mktemp("batches") / "data", env={"VOXIFY_RATE_LIMIT_PER_MINUTE": "100000"}
    ).start()  # the tests poll fast
    try:
        api, voice = voice_over_http(stack, "batches@example.com")
        assert api.post(f"/api/v1/voice/clones/{voice}/select").status_code == 200
        yield stack, api, voice
    finally:
        stack.stop()


def bucket(stack) -> str:
    return next(b["Name"] for b in aws(stack, "s3").list_buckets()["Buckets"] if "-audio-" in b["Name"])


def subscribe(stack, name: str, pattern: dict) -> str:
    """An SQS queue of our own receiving what the bus matches, as an integrator would set up."""
    sqs, events = aws(stack, "sqs"), aws(stack, "events")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name=name, EventBusName=BUS, EventPattern=json.dumps(pattern))
    events.put_targets(Rule=name, EventBusName=BUS, Targets=[{"Id": "q", "Arn": arn}])
    return url


def drain(stack, url: str, seconds: float = 2.0) -> list[dict]:
    sqs, received, deadline = aws(stack, "sqs"), [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        for message in messages:
            received.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return received


def finished_batch(api, batch_id: str) -> dict:
    return poll(
        lambda: api.get(f"/api/v1/batches/{batch_id}").json()["data"],
        lambda b: b["status"] in ("completed", "completed_with_errors", "failed"),
        timeout=240,
    )


def batch_for(api, manifest_key: str) -> dict:
    return poll(
        lambda: next(
            (
                b
                for b in api.get("/api/v1/batches", params={"limit": 100}).json()["data"]
                if b["manifest_key"] == manifest_key
            ),
            None,
        ),
        lambda b: b is not None,
    )


def keys(stack, prefix: str) -> list[str]:
    listing = aws(stack, "s3").list_objects_v2(Bucket=bucket(stack), Prefix=prefix)
    return sorted(o["Key"] for o in listing.get("Contents", []))


def read(stack, key: str) -> bytes:
    return aws(stack, "s3").get_object(Bucket=bucket(stack), Key=key)["Body"].read()


def test_twenty_lines_give_twenty_files_a_manifest_and_a_report(running):
    stack, api, voice = running
    job_events = subscribe(stack, "test-job-events", {"source": ["voxify"], "detail-type": ["Job State Change"]})
    lines = [
        {
            "text": f"Line number {i} of the batch.",
            "voice_id": voice,
            "format": "wav" if i % 2 else "mp3",
            "output_name": f"line-{i:02d}",
        }
        for i in range(1, 21)
    ]
    manifest = "".join(json.dumps(line) + "\n" for line in lines).encode()
    upload = api.post("/api/v1/batches/uploads", json={"format": "jsonl", "size_bytes": len(manifest)}).json()["data"]
    posted = httpx.post(upload["upload"]["url"], data=upload["upload"]["fields"], files={"file": manifest})
    assert posted.status_code in (200, 204), posted.text

    batch = finished_batch(api, batch_for(api, upload["manifest_key"])["batch_id"])
    assert batch["status"] == "completed", batch
    assert batch["counts"] == {
        "lines": 20,
        "accepted": 20,
        "rejected": 0,
        "completed": 20,
        "failed": 0,
        "cancelled": 0,
        "pending": 0,
    }
    prefix = batch["output_prefix"]
    audio = [k for k in keys(stack, prefix) if k.endswith((".wav", ".mp3"))]
    assert audio == sorted(f"{prefix}line-{i:02d}.{'wav' if i % 2 else 'mp3'}" for i in range(1, 21))
    samples, rate = sf.read(io.BytesIO(read(stack, audio[0])))
    assert len(samples) / rate > 0.5
    entries = [json.loads(line) for line in read(stack, f"{prefix}manifest.jsonl").decode().splitlines()]
    assert [e["line"] for e in entries] == list(range(1, 21))
    assert all(e["status"] == "completed" and e["output_key"] in audio and e["duration_seconds"] > 0 for e in entries)
    report = json.loads(read(stack, f"{prefix}report.json"))
    assert report["status"] == "completed" and report["errors"] == [] and report["counts"]["completed"] == 20

    events = drain(stack, job_events)
    for event in events:
        validate_event(event)
    by_job: dict[str, list[str]] = {}
    for event in sorted(events, key=lambda e: e["detail"]["occurred_at"]):  # a queue does not keep order
        by_job.setdefault(event["detail"]["job_id"], []).append(event["detail"]["status"])
    assert len(by_job) == 20
    assert all(states == ["pending", "processing", "completed"] for states in by_job.values()), by_job


def test_bad_lines_are_reported_and_a_duplicate_delivery_makes_no_second_batch(running):
    stack, api, voice = running
    rows = [{"text": f"Good line {i}.", "voice_id": voice} for i in range(17)]
    rows[3:3] = [{"text": ""}, {"text": "Whose voice?", "voice_id": "vox_nobody"}, {"text": "x", "speed": 9}]
    manifest = "".join(json.dumps(row) + "\n" for row in rows).encode()
    s3 = aws(stack, "s3")
    key = f"dropbox/{api.get('/api/v1/auth/profile').json()['data']['user_id']}/with-errors.jsonl"
    s3.put_object(Bucket=bucket(stack), Key=key, Body=manifest)
    batch = finished_batch(api, batch_for(api, key)["batch_id"])
    assert batch["status"] == "completed_with_errors"
    assert batch["counts"]["completed"] == 17 and batch["counts"]["rejected"] == 3
    report = json.loads(read(stack, f"{batch['output_prefix']}report.json"))
    assert [(e["line"], e["code"]) for e in report["errors"]] == [
        (4, "EMPTY_TEXT"),
        (5, "NOT_FOUND"),
        (6, "VALIDATION_ERROR"),
    ]
    assert len([k for k in keys(stack, batch["output_prefix"]) if k.endswith(".wav")]) == 17

    jobs_before = api.get("/api/v1/job", params={"limit": 1}).json()["meta"]["pagination"]["total_count"]
    etag = s3.head_object(Bucket=bucket(stack), Key=key)["ETag"].strip('"')
    notification = {
        "Records": [
            {
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": bucket(stack)}, "object": {"key": key, "eTag": etag, "size": len(manifest)}},
            }
        ]
    }
    sqs = aws(stack, "sqs")
    sqs.send_message(
        QueueUrl=sqs.get_queue_url(QueueName="voxify-local-ingest")["QueueUrl"], MessageBody=json.dumps(notification)
    )
    time.sleep(5)
    batches = [b for b in api.get("/api/v1/batches").json()["data"] if b["manifest_key"] == key]
    assert len(batches) == 1
    assert api.get("/api/v1/job", params={"limit": 1}).json()["meta"]["pagination"]["total_count"] == jobs_before


def test_a_manifest_outside_any_users_folder_gets_an_error_report_only(running):
    stack, api, _ = running
    aws(stack, "s3").put_object(Bucket=bucket(stack), Key="dropbox/usr_nobody/lines.txt", Body=b"hello\n")
    report = poll(lambda: keys(stack, "dropbox/usr_nobody/lines.txt.error.json"), bool)
    assert json.loads(read(stack, report[0]))["error"]["code"] == "UNKNOWN_USER"
    assert all(b["manifest_key"] != "dropbox/usr_nobody/lines.txt" for b in api.get("/api/v1/batches").json()["data"])


def test_an_inbound_event_becomes_a_job_that_completes(running):
    stack, api, voice = running
    replies = subscribe(
        stack,
        "test-replies",
        {"source": ["voxify"], "detail-type": ["Synthesis Request Accepted", "Synthesis Request Rejected"]},
    )
    key = api.post("/api/v1/api-keys", json={"name": "events"}).json()["data"]["key"]
    events = aws(stack, "events")
    for detail in (
        {
            "api_key": key,
            "text": "Hello from the bus.",
            "voice_id": voice,
            "correlation_id": "c-1",
            "options": {"output_format": "flac"},
        },
        {"api_key": "vx_forged", "text": "Nope.", "correlation_id": "c-2"},
    ):
        events.put_events(
            Entries=[
                {
                    "Source": "partner.app",
                    "DetailType": "Synthesis Requested",
                    "EventBusName": BUS,
                    "Detail": json.dumps(detail),
                }
            ]
        )
    answers: list[dict] = []
    deadline = time.monotonic() + 60
    while len(answers) < 2 and time.monotonic() < deadline:
        answers += drain(stack, replies, 1.0)
    by_correlation = {a["detail"]["correlation_id"]: a for a in answers}
    for answer in answers:
        validate_event(answer)
    assert by_correlation["c-1"]["detail-type"] == "Synthesis Request Accepted"
    assert by_correlation["c-2"]["detail"]["reason"]["code"] == "TOKEN_INVALID"
    job_id = by_correlation["c-1"]["detail"]["job_id"]
    job = poll(lambda: api.get(f"/api/v1/job/{job_id}").json()["data"], lambda j: j["status"] == "completed")
    assert job["source"] == "event" and job["output_format"] == "flac"
