"""State-change events reach the bus even when it throttles: refused entries are sent again;
job state changes reach it from the table's stream."""

import json
import threading
import time

import boto3
import pytest

from infra.local.event_sources import StreamPoller, client_as
from infra.local.faults import throttle_event_publishing
from tests.fixtures.aws import api_credentials
from tests.fixtures.local_stack import poll
from tests.fixtures.voices import ready_clone
from voxify.aws import acting_as
from voxify.domain.jobs import JobCreate
from voxify.events import EventPublisher
from voxify.logic.jobs import submit_job


@pytest.fixture
def bus_queue(stack, emulator_endpoint):
    """A queue receiving every `voxify` event of the stack's bus."""
    _, resources = stack
    bus = resources.environment["VOXIFY_EVENT_BUS_NAME"]
    sqs, events = (boto3.client(name, endpoint_url=emulator_endpoint) for name in ("sqs", "events"))
    url = sqs.create_queue(QueueName="every-voxify-event")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="every-voxify-event", EventBusName=bus, EventPattern=json.dumps({"source": ["voxify"]}))
    events.put_targets(Rule="every-voxify-event", EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])
    yield sqs, url
    throttle_event_publishing(0)


def received(sqs, url):
    got = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages"):
        got += [json.loads(m["Body"])["detail"]["n"] for m in messages]
        sqs.delete_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
        )
    return sorted(got)


def test_entries_the_bus_throttles_are_published_again(bus_queue):
    sqs, url = bus_queue
    throttle_event_publishing(0.5, seed=3)
    publisher = EventPublisher()
    for n in range(20):
        publisher.publish("Job State Change", {"n": n})
    assert received(sqs, url) == list(range(20))


def test_a_bus_that_refuses_everything_never_fails_the_state_change(bus_queue):
    sqs, url = bus_queue
    throttle_event_publishing(1.0)
    EventPublisher().publish("Job State Change", {"n": 0})  # logged, not raised
    assert received(sqs, url) == []


def job_events(sqs, url):
    """The job events the bus queue holds, in the order their changes were made."""
    got = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages"):
        got += [json.loads(m["Body"]) for m in messages]
        sqs.delete_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
        )
    return sorted((e["detail"] for e in got if e["detail-type"] == "Job State Change"), key=lambda d: d["occurred_at"])


@pytest.fixture
def job_events_function(stack, emulator_endpoint):
    """The template's stream consumer, run by the local runner as its role, from now on."""
    _, resources = stack
    [mapping] = resources.streams
    stop = threading.Event()
    streams = client_as(boto3.client("sqs", endpoint_url=emulator_endpoint), mapping.credentials, "dynamodbstreams")
    poller = StreamPoller(mapping, streams, "us-east-1", "123456789012", stop)
    yield poller
    stop.set()
    poller.join(5)


def test_job_state_changes_are_announced_from_the_table_stream_once_each(
    bus_queue, job_events_function, alice, emulator_endpoint
):
    """The API publishes nothing for a job: the stream consumer announces its creation and each
    later change of state once, in order, with the time of the write. An update within a state
    announces nothing, nor does a create its transaction refuses (here a redelivery of the
    same job id: the emulator rolls the cancelled transaction back)."""
    sqs, url = bus_queue
    voice = ready_clone(alice)
    job = alice.post("/api/v1/job", json={"text_content": "Streamed.", "voice_model_id": voice}).json()["data"]
    assert alice.patch(f"/api/v1/job/{job['job_id']}", json={"text_content": "Edited."}).status_code == 200
    with acting_as(api_credentials()):
        again = submit_job(alice.user_id, JobCreate(text_content="Again.", voice_model_id=voice), job_id=job["job_id"])
    assert again.job_id == job["job_id"] and again.text == "Edited."
    assert alice.patch(f"/api/v1/job/{job['job_id']}", json={"status": "cancelled"}).status_code == 200
    assert job_events(sqs, url) == []  # nothing published inline

    job_events_function.start()
    announced: list[dict] = []
    poll(lambda: announced.extend(job_events(sqs, url)) or announced, lambda events: len(events) >= 2, timeout=30)
    time.sleep(1)  # anything more would have arrived by now
    announced += job_events(sqs, url)
    assert [(e["job_id"], e["status"]) for e in announced] == [(job["job_id"], "pending"), (job["job_id"], "cancelled")]
    assert announced[0]["occurred_at"] == job["created_at"]
