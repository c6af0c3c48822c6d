"""The consumer keeps the engine busy without bending the settling rules: it holds the next
message (handing it back on stop), and runs a handler's rest on a lane while the next
message starts, settling each message only when its rest has ended; works received together
go to a batch handler and are still settled one by one. The queue is a real
one in the emulator; the consumer's calls to it are read from botocore's events."""

from __future__ import annotations

import threading
import uuid
from functools import partial
from typing import Any

import boto3
import pytest

from voxify.observability import logger
from voxify.queue import WorkMessage
from voxify_worker.runtime.batch_former import BatchPolicy
from voxify_worker.runtime.consumer import RETRY_BACKOFF_SECONDS, WorkConsumer


class RecordedQueue:
    """A fresh queue holding one synthesis message per id, and what the consumer did to it:
    messages per receive, and the ids it deleted or changed the visibility of."""

    def __init__(self, endpoint: str, job_ids: list[str]) -> None:
        self.sqs = boto3.client(
            "sqs",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        self.url = self.sqs.create_queue(QueueName=f"consumer-{uuid.uuid4().hex}")["QueueUrl"]
        for job_id in job_ids:
            self.sqs.send_message(
                QueueUrl=self.url, MessageBody=WorkMessage(kind="synthesis", id=job_id).model_dump_json()
            )
        self.total = len(job_ids)
        self.received: list[int] = []
        self.deleted: list[str] = []
        self.visibility: list[tuple[str, int]] = []
        self._ids: dict[str, str] = {}  # receipt handle -> job id
        self._lock = threading.Lock()
        events = self.sqs.meta.events
        events.register("after-call.sqs.ReceiveMessage", self._on_receive)
        events.register("provide-client-params.sqs.DeleteMessage", self._on_delete)
        events.register("provide-client-params.sqs.ChangeMessageVisibility", self._on_visibility)

    def _on_receive(self, parsed: dict[str, Any], **_: Any) -> None:
        messages = parsed.get("Messages", [])
        with self._lock:
            self.received.append(len(messages))
            for message in messages:
                self._ids[message["ReceiptHandle"]] = WorkMessage.model_validate_json(message["Body"]).id

    def _on_delete(self, params: dict[str, Any], **_: Any) -> None:
        with self._lock:
            self.deleted.append(self._ids[params["ReceiptHandle"]])

    def _on_visibility(self, params: dict[str, Any], **_: Any) -> None:
        with self._lock:
            self.visibility.append((self._ids[params["ReceiptHandle"]], params["VisibilityTimeout"]))

    def waiting(self) -> list[str]:
        """The ids a receive gets now (taking them for a minute)."""
        answer = self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10, VisibilityTimeout=60)
        return [WorkMessage.model_validate_json(m["Body"]).id for m in answer.get("Messages", [])]


class StopWhenSettled:
    """Stops the consumer's loop once every message of the queue has been settled."""

    def __init__(self, queue: RecordedQueue) -> None:
        self._queue = queue

    def is_set(self) -> bool:
        settled = {*self._queue.deleted, *(job for job, seconds in self._queue.visibility if seconds)}
        return len(settled) >= self._queue.total

    def wait(self, seconds: float) -> bool:
        return self.is_set()


@pytest.fixture
def queue_of(emulator_endpoint: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    return lambda *job_ids: RecordedQueue(emulator_endpoint, list(job_ids))


def test_a_held_message_is_handed_back_untouched_on_stop(queue_of):
    queue = queue_of("a", "b")
    stop = threading.Event()
    handled = []

    def handler(work, delivery):
        handled.append(work.id)
        stop.set()  # SIGTERM arrives while the first job runs

    WorkConsumer(queue.sqs, [queue.url], {"synthesis": handler}, wait_seconds=0, prefetch=1).run(stop)
    assert queue.received == [2]  # both came in one receive
    assert handled == ["a"] and queue.deleted == ["a"]
    assert queue.visibility == [("b", 0)]
    assert queue.waiting() == ["b"]  # at once, for another worker


def test_a_message_held_past_half_its_lease_is_renewed_before_it_starts(queue_of, monkeypatch):
    import voxify_worker.runtime.consumer as consumer_module

    queue = queue_of("a", "b")
    readings = [0.0, 0.0, 100.0]  # received at 0; "a" starts at 0; "b" starts 100 s later

    def clock() -> float:
        return readings.pop(0) if len(readings) > 1 else readings[0]

    monkeypatch.setattr(consumer_module, "monotonic", clock)
    consumer = WorkConsumer(
        queue.sqs, [queue.url], {"synthesis": lambda w, d: None}, wait_seconds=0, lease_seconds=120, prefetch=1
    )
    consumer.run(StopWhenSettled(queue))
    assert queue.visibility == [("b", 120)]
    assert queue.deleted == ["a", "b"]
    assert queue.received[0] == 2


def test_the_rest_runs_on_the_lane_while_the_next_message_starts(queue_of):
    queue = queue_of("a", "b")
    b_started = threading.Event()
    order: list[str] = []
    lane_threads: set[str] = set()
    logged_as: dict[str, Any] = {}

    def handler(work, delivery):
        logger.thread_safe_append_keys(job_id=work.id)  # as the synthesis handler does
        order.append(f"start {work.id}")
        if work.id == "b":
            b_started.set()

        def rest():
            lane_threads.add(threading.current_thread().name)
            if work.id == "a":
                assert b_started.wait(5), "the next message did not start while this rest ran"
                assert queue.deleted == []  # settled only once its rest ends
            logged_as[work.id] = logger.thread_safe_get_current_keys().get("job_id")
            order.append(f"rest {work.id}")

        return rest

    consumer = WorkConsumer(queue.sqs, [queue.url], {"synthesis": handler}, wait_seconds=0, prefetch=1, overlap=True)
    consumer.run(StopWhenSettled(queue))
    assert order == ["start a", "start b", "rest a", "rest b"]  # run() returned after the last rest
    assert queue.deleted == ["a", "b"]
    assert lane_threads and all(name.startswith("finisher") for name in lane_threads)
    # a rest's log lines name its own job, though the consumer has moved on to the next
    assert logged_as == {"a": "a", "b": "b"}


def test_a_rest_that_fails_returns_its_message_with_a_backoff(queue_of):
    queue = queue_of("a")

    def handler(work, delivery):
        def rest():
            raise RuntimeError("upload failed")

        return rest

    WorkConsumer(queue.sqs, [queue.url], {"synthesis": handler}, wait_seconds=0, overlap=True).run(
        StopWhenSettled(queue)
    )
    assert queue.deleted == []
    assert queue.visibility == [("a", RETRY_BACKOFF_SECONDS)]


def test_without_a_lane_settle_runs_the_rest_before_it_returns(queue_of):
    queue = queue_of("a")
    ran = []
    consumer = WorkConsumer(
        queue.sqs, [queue.url], {"synthesis": lambda w, d: lambda: ran.append(w.id)}, wait_seconds=0
    )
    (message,) = queue.sqs.receive_message(QueueUrl=queue.url, MaxNumberOfMessages=1)["Messages"]
    consumer.settle(queue.url, message)
    assert ran == ["a"] and queue.deleted == ["a"] and consumer.processed == 1


def test_works_received_together_go_to_the_batch_handler_and_settle_each_by_its_own_step(queue_of):
    queue = queue_of("a", "b", "c")
    batches: list[list[str]] = []
    rests: list[tuple[str, Any]] = []

    def together(items):
        batches.append([work.id for work, _ in items])

        def step(job_id):
            logger.thread_safe_append_keys(job_id=job_id)  # as each job's step does
            if job_id == "b":
                raise RuntimeError("b's engine output was unusable")
            return lambda: rests.append((job_id, logger.thread_safe_get_current_keys().get("job_id")))

        return [partial(step, work.id) for work, _ in items]

    def alone(work, delivery):
        raise AssertionError("a work received with others of its kind went to the single handler")

    consumer = WorkConsumer(
        queue.sqs,
        [queue.url],
        {"synthesis": alone},
        wait_seconds=0,
        overlap=True,
        batch=BatchPolicy(max_batch_size=8, max_wait_ms=0),
        batch_handlers={"synthesis": together},
    )
    consumer.run(StopWhenSettled(queue))
    assert batches == [["a", "b", "c"]] and queue.received[0] == 3
    assert rests == [("a", "a"), ("c", "c")]  # on the lane, in order, each logging as its own job
    assert sorted(queue.deleted) == ["a", "c"]
    assert queue.visibility == [("b", RETRY_BACKOFF_SECONDS)]  # only b's message comes back
    assert consumer.processed == 2


def test_a_batch_waits_its_bound_for_more_work_and_a_lone_work_goes_to_the_single_handler(queue_of):
    queue = queue_of("a")
    batches: list[list[str]] = []
    alone: list[str] = []

    def late_arrival() -> None:
        queue.sqs.send_message(QueueUrl=queue.url, MessageBody=WorkMessage(kind="synthesis", id="b").model_dump_json())
        queue.total += 1

    def together(items):
        batches.append([work.id for work, _ in items])
        return [lambda: None for _ in items]

    def run_on(queue: RecordedQueue, wait_ms: float) -> None:
        WorkConsumer(
            queue.sqs,
            [queue.url],
            {"synthesis": lambda work, delivery: alone.append(work.id)},
            wait_seconds=0,
            batch=BatchPolicy(max_batch_size=4, max_wait_ms=wait_ms),
            batch_handlers={"synthesis": together},
        ).run(StopWhenSettled(queue))

    timer = threading.Timer(0.3, late_arrival)
    timer.start()
    run_on(queue, 1500)
    timer.join()
    assert batches == [["a", "b"]] and alone == []  # b arrived within a's wait and joined it

    queue_alone = queue_of("c")
    run_on(queue_alone, 0)
    assert alone == ["c"] and queue_alone.deleted == ["c"]
