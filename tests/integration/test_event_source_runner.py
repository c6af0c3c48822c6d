"""The local runner feeds SQS-triggered functions as Lambda's event source mappings do."""

import json
import threading
import time
from dataclasses import replace

import boto3
import pytest

from infra.local.event_sources import EventSourcePoller, ScheduledInvoker
from voxify.domain.jobs import JobRecord, JobStatus
from voxify.queue import WorkMessage
from voxify.repositories.jobs import JobRepository


def mapping_named(resources, function):
    return next(m for m in resources.mappings if m.function == function)


def test_template_declares_the_sqs_triggers(stack):
    _, resources = stack
    by_function = {m.function: m for m in resources.mappings}
    assert set(by_function) == {
        "DropfolderFunction",
        "IngestFunction",
        "DlqFunction",
        "BatchesFunction",
        "WebhooksFunction",
    }
    dropfolder = by_function["DropfolderFunction"]
    assert dropfolder.module == "functions.dropfolder.handler"
    assert dropfolder.batch_size == 10 and dropfolder.batching_window_seconds == 1
    assert dropfolder.report_batch_item_failures
    assert dropfolder.queue_url.endswith("/voxify-local-ingest")


class Recorder:
    """A handler that records its events and fails the messages whose body says so."""

    def __init__(self, raise_error=False, bogus_id=False):
        self.events = []
        self.raise_error = raise_error
        self.bogus_id = bogus_id

    def __call__(self, event, context):
        self.events.append((event, context.get_remaining_time_in_millis()))
        if self.raise_error:
            raise RuntimeError("boom")
        failures = [
            {"itemIdentifier": "not-a-message" if self.bogus_id else r["messageId"]}
            for r in event["Records"]
            if r["body"] == "fail"
        ]
        return {"batchItemFailures": failures}


@pytest.fixture
def queue(stack, emulator_endpoint):
    sqs = boto3.client("sqs", endpoint_url=emulator_endpoint)
    url = sqs.create_queue(QueueName=f"runner-{time.monotonic_ns()}", Attributes={"VisibilityTimeout": "1"})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return sqs, url, arn


def run_once(stack, queue, handler, **overrides):
    _, resources = stack
    sqs, url, arn = queue
    mapping = replace(mapping_named(resources, "DropfolderFunction"), queue_url=url, queue_arn=arn, **overrides)
    poller = EventSourcePoller(mapping, sqs, "us-east-1", "123456789012", threading.Event(), handler=handler)
    batch = poller.gather_batch()
    poller.invoke(batch)
    return batch


def visible_bodies(sqs, url):
    time.sleep(1.2)  # past the 1 s visibility timeout
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return sorted(m["Body"] for m in messages)


def test_batch_is_lambda_shaped_and_partial_failures_return(stack, queue):
    sqs, url, arn = queue
    sqs.send_message_batch(
        QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": body} for i, body in enumerate(["ok-1", "fail", "ok-2"])]
    )
    handler = Recorder()
    batch = run_once(stack, queue, handler)
    assert len(batch) == 3
    event, remaining_ms = handler.events[0]
    record = event["Records"][0]
    assert record["eventSource"] == "aws:sqs" and record["eventSourceARN"] == arn
    assert {"messageId", "receiptHandle", "body", "attributes", "md5OfBody", "awsRegion"} <= set(record)
    assert int(record["attributes"]["ApproximateReceiveCount"]) == 1
    assert 0 < remaining_ms <= 90_000
    assert visible_bodies(sqs, url) == ["fail"]


def test_function_error_returns_the_whole_batch(stack, queue):
    sqs, url, _ = queue
    sqs.send_message(QueueUrl=url, MessageBody="a")
    sqs.send_message(QueueUrl=url, MessageBody="b")
    run_once(stack, queue, Recorder(raise_error=True), batching_window_seconds=0)
    assert visible_bodies(sqs, url) == ["a", "b"]


def test_unknown_item_identifier_fails_the_whole_batch(stack, queue):
    sqs, url, _ = queue
    sqs.send_message(QueueUrl=url, MessageBody="fail")
    sqs.send_message(QueueUrl=url, MessageBody="ok")
    run_once(stack, queue, Recorder(bogus_id=True))
    assert visible_bodies(sqs, url) == ["fail", "ok"]


def test_batch_size_caps_the_batch(stack, queue):
    sqs, url, _ = queue
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(5)])
    batch = run_once(stack, queue, Recorder(), batch_size=2)
    assert len(batch) == 2


def stored_job(job_id: str, status: JobStatus, **fields: str) -> JobRecord:
    return JobRecord(
        job_id=job_id,
        user_id="usr_1",
        status=status,
        blocks=[{"text": "hi"}],
        voice_model_id="vox_1",
        text_language="en",
        output_format="wav",
        sample_rate=24000,
        speed=1.0,
        pitch=0.0,
        volume=1.0,
        config={},
        created_at="2026-01-01T00:00:00.000Z",
        updated_at="2026-01-01T00:00:00.000Z",
        **fields,
    )


def test_dead_job_message_fails_its_job_through_the_dlq_function(stack, emulator_endpoint):
    _, resources = stack
    jobs = JobRepository()
    jobs.create(stored_job("job-1", JobStatus.PROCESSING, last_error="CUDA out of memory"))
    jobs.create(stored_job("job-2", JobStatus.COMPLETED))
    mapping = mapping_named(resources, "DlqFunction")
    sqs = boto3.client("sqs", endpoint_url=emulator_endpoint)
    for job_id in ("job-1", "job-2"):
        sqs.send_message(
            QueueUrl=mapping.queue_url, MessageBody=WorkMessage(kind="synthesis", id=job_id).model_dump_json()
        )
    sqs.send_message(QueueUrl=mapping.queue_url, MessageBody="garbage")
    poller = EventSourcePoller(mapping, sqs, "us-east-1", "123456789012", threading.Event())
    poller.invoke(poller.gather_batch())

    failed = jobs.get("job-1")
    assert failed.status == "failed"
    assert failed.error_code == "RETRIES_EXHAUSTED"
    assert failed.error_message == "CUDA out of memory"
    assert jobs.get("job-2").status == "completed"  # never moved backwards
    leftover = sqs.receive_message(QueueUrl=mapping.queue_url, WaitTimeSeconds=0)
    assert "Messages" not in leftover  # all settled, the garbage one included
    assert json.loads(WorkMessage(kind="synthesis", id="x").model_dump_json())["version"] == 1


def test_template_schedules_the_recovery_outside_the_workers(stack):
    _, resources = stack
    (recovery,) = resources.schedules
    assert recovery.function == "RecoveryFunction" and recovery.module == "functions.recovery.handler"
    assert recovery.period_seconds == 60 and recovery.credentials is not None


def test_the_scheduled_recovery_requeues_a_stranded_job_with_its_own_role(stack, emulator_endpoint):
    _, resources = stack
    jobs = JobRepository()
    jobs.create(stored_job("job-stranded", JobStatus.PROCESSING, claim_owner="gone", claim_expires=1, attempts=1))
    jobs.create(stored_job("job-done", JobStatus.COMPLETED))
    invoker = ScheduledInvoker(resources.schedules[0], "us-east-1", "123456789012", threading.Event())

    assert invoker.invoke() == {"moved_on": 1}
    assert jobs.get("job-stranded").status == JobStatus.PENDING and jobs.get("job-done").status == "completed"
    sqs = boto3.client("sqs", endpoint_url=emulator_endpoint)
    (message,) = sqs.receive_message(QueueUrl=resources.environment["VOXIFY_JOBS_QUEUE_URL"])["Messages"]
    assert json.loads(message["Body"])["id"] == "job-stranded"
