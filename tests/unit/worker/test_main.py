"""Each work queue gets its own pollers, so a job never waits out another queue's empty poll;
only the jobs queue's pollers take works together. The queues are real ones in the emulator;
the pollers' receives are read from botocore's events."""

from __future__ import annotations

import uuid
from typing import Any

import boto3
import pytest

from voxify_worker.__main__ import build_consumers


class StopAfterOneReceive:
    """Lets a consumer's loop make exactly one receive (the loop and the queue's turn ask)."""

    def __init__(self) -> None:
        self.calls = 0

    def is_set(self) -> bool:
        self.calls += 1
        return self.calls > 2

    def wait(self, seconds: float) -> bool:
        return True


@pytest.fixture
def sqs(emulator_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    return boto3.client("sqs", endpoint_url=emulator_endpoint, region_name="us-east-1")


def test_every_consumer_polls_exactly_one_queue_and_only_the_jobs_queue_batches(sqs: Any) -> None:
    jobs, uploads = (sqs.create_queue(QueueName=f"{name}-{uuid.uuid4().hex}")["QueueUrl"] for name in "ju")
    asked: list[tuple[str, int]] = []  # (queue, messages asked for) per receive

    def record(params: dict[str, Any], **_: Any) -> None:
        asked.append((params["QueueUrl"], params["MaxNumberOfMessages"]))

    sqs.meta.events.register("provide-client-params.sqs.ReceiveMessage", record)
    consumers = build_consumers(
        sqs,
        [jobs, uploads],
        {},
        per_queue=2,
        wait_seconds=0,
        batch_handlers={"synthesis": lambda items: []},
        batched_queue=jobs,
    )
    assert len(consumers) == 4
    for consumer in consumers:
        asked.clear()
        consumer.run(StopAfterOneReceive())
        assert len({queue for queue, _ in asked}) == 1
    assert sorted(c.queue_urls[0] for c in consumers) == sorted([jobs, jobs, uploads, uploads])
    per_receive = {}
    for consumer in consumers:
        asked.clear()
        consumer.run(StopAfterOneReceive())
        per_receive[consumer.queue_urls[0]] = asked[0][1]
    assert per_receive == {jobs: 8, uploads: 2}  # a batch of jobs; one upload and the next in hand
