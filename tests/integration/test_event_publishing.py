"""State-change events reach the bus even when it throttles: refused entries are sent again."""

import json

import boto3
import pytest

from infra.local.faults import throttle_event_publishing
from voxify.events import EventPublisher


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
