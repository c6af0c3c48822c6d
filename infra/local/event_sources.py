"""Feed SQS- and stream-triggered functions the way Lambda's event source mappings do, and
run scheduled functions the way an EventBridge schedule does.

For each `Events: {Type: SQS}` entry of the template, a thread long-polls the queue,
gathers up to BatchSize messages within MaximumBatchingWindowInSeconds, and calls the
function's handler with a Lambda-shaped event. Like Lambda: a raised error returns the
whole batch to the queue (it becomes visible again after the visibility timeout and
eventually redrives to the DLQ); with ReportBatchItemFailures only the reported messages
return; an unknown identifier in the report fails the whole batch.

For each `Events: {Type: DynamoDB}` entry, a thread reads the table's stream from where it
stood when the runner started (StartingPosition LATEST), and calls the function with up to
BatchSize records, in stream order. Like Lambda: a raised error hands the same records over
again; with ReportBatchItemFailures the stream resumes at the first reported record (those
before it are done). FilterCriteria are not applied: a function sees every item's change.
The emulator's stream keeps only the table it was read from, and a transaction it cancels
replaces that table: so every read starts from a fresh iterator AFTER the last record done.

Like Lambda, each mapping polls and runs its function with the function's role: the runner's
pollers use the role's session (`EventSourceMapping.credentials`), and the handler runs
inside `voxify.aws.acting_as` those credentials, so the one process that hosts every
function still calls AWS as each function would in its own sandbox.
"""

from __future__ import annotations

import hashlib
import importlib
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3

from infra.local.bootstrap import EventSourceMapping, LocalFunction, ScheduledFunction, StreamMapping
from voxify.aws import Credentials, acting_as
from voxify.clock import now_iso
from voxify.observability import logger

MAX_RECEIVE = 10  # SQS's per-call maximum
STREAM_POLL_SECONDS = 0.1  # how long an idle stream poller waits before reading again
RETRY_SECONDS = 1.0  # how long a failed stream batch waits before it is handed over again


@dataclass
class LocalLambdaContext:
    """The attributes of Lambda's context object that handlers and Powertools read."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    deadline: float
    aws_request_id: str
    function_version: str = "$LATEST"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"local/{self.aws_request_id}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


def sqs_event_record(message: dict[str, Any], mapping: EventSourceMapping, region: str) -> dict:
    """One record of a Lambda SQS event, built from a ReceiveMessage result."""
    attributes = dict(message.get("Attributes", {}))
    message_attributes = {
        name: {
            "stringValue": value.get("StringValue"),
            "binaryValue": value.get("BinaryValue"),
            "stringListValues": value.get("StringListValues", []),
            "binaryListValues": value.get("BinaryListValues", []),
            "dataType": value["DataType"],
        }
        for name, value in message.get("MessageAttributes", {}).items()
    }
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": attributes,
        "messageAttributes": message_attributes,
        "md5OfBody": message.get("MD5OfBody") or hashlib.md5(message["Body"].encode()).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": mapping.queue_arn,
        "awsRegion": region,
    }


def load_handler(function: LocalFunction) -> Callable[[dict, Any], Any]:
    with acting_as(function.credentials):  # what a module builds at import, it builds as the function
        return getattr(importlib.import_module(function.module), function.attribute)


def function_arn(function: LocalFunction, region: str, account: str) -> str:
    return f"arn:aws:lambda:{region}:{account}:function:{function.function_name}"


def invocation_context(function: LocalFunction, arn: str) -> LocalLambdaContext:
    """A fresh context for one invocation: its own request id and the function's deadline."""
    return LocalLambdaContext(
        function_name=function.function_name,
        memory_limit_in_mb=function.memory_mb,
        invoked_function_arn=arn,
        deadline=time.monotonic() + function.timeout_seconds,
        aws_request_id=str(uuid.uuid4()),
    )


def client_as(like: Any, credentials: Credentials | None, service: str | None = None) -> Any:
    """A client of `service` (by default `like`'s own) with `like`'s endpoint and region, that
    calls with `credentials`."""
    name = service or like.meta.service_model.service_name
    if credentials is None and name == like.meta.service_model.service_name:
        return like
    session = boto3.session.Session(
        aws_access_key_id=credentials.access_key_id if credentials else None,
        aws_secret_access_key=credentials.secret_access_key if credentials else None,
        aws_session_token=credentials.session_token if credentials else None,
        region_name=like.meta.region_name,
    )
    return session.client(name, endpoint_url=like.meta.endpoint_url)


Handler = Callable[[dict[str, Any], Any], Any]


class FunctionThread(threading.Thread):
    """A thread invoking one function until stopped. `handler` stands in for the function
    (tests); by default its module is loaded, as the function."""

    def __init__(
        self,
        function: LocalFunction,
        kind: str,
        region: str,
        account: str,
        stop: threading.Event,
        handler: Handler | None,
    ) -> None:
        super().__init__(name=f"{kind}-{function.function}", daemon=True)
        self._region = region
        self._account = account
        self._arn = function_arn(function, region, account)
        self._stop_event = stop
        self._handler = handler or load_handler(function)
        self.invocations = 0


class EventSourcePoller(FunctionThread):
    """Polls one queue for one function until stopped."""

    def __init__(
        self,
        mapping: EventSourceMapping,
        sqs: Any,
        region: str,
        account: str,
        stop: threading.Event,
        handler: Handler | None = None,
    ) -> None:
        """`sqs` polls and settles the queue; the handler runs with the mapping's credentials."""
        super().__init__(mapping, "esm", region, account, stop, handler)
        self.mapping = mapping
        self._sqs = sqs

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                batch = self.gather_batch()
                if batch:
                    self.invoke(batch)
            except Exception:  # the poller must outlive one bad batch
                if self._stop_event.is_set():
                    break
                logger.exception("event source poll failed", extra={"function": self.mapping.function})
                self._stop_event.wait(1.0)

    def gather_batch(self) -> list[dict[str, Any]]:
        """Up to the mapping's batch size of messages, within its batching window."""
        batch: list[dict[str, Any]] = []
        window_ends = time.monotonic() + self.mapping.batching_window_seconds
        while len(batch) < self.mapping.batch_size and not self._stop_event.is_set():
            wait = 1 if not batch else max(0, min(1, int(window_ends - time.monotonic())))
            received = self._sqs.receive_message(
                QueueUrl=self.mapping.queue_url,
                MaxNumberOfMessages=min(MAX_RECEIVE, self.mapping.batch_size - len(batch)),
                WaitTimeSeconds=wait,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            batch.extend(received)
            if batch and (not received or time.monotonic() >= window_ends):
                break
        return batch

    def invoke(self, messages: list[dict[str, Any]]) -> None:
        """Call the handler with one batch and settle the messages as Lambda would."""
        event = {"Records": [sqs_event_record(m, self.mapping, self._region) for m in messages]}
        self.invocations += 1
        try:
            with acting_as(self.mapping.credentials):
                response = self._handler(event, invocation_context(self.mapping, self._arn))
        except Exception:  # a function error returns the batch to the queue
            logger.exception(
                "function failed; batch returns to the queue",
                extra={"function": self.mapping.function, "size": len(messages)},
            )
            return
        failed = self._failed_ids(response, messages)
        if failed is None:
            return
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), MAX_RECEIVE):
            self._sqs.delete_message_batch(
                QueueUrl=self.mapping.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(done[start : start + MAX_RECEIVE])
                ],
            )

    def _failed_ids(self, response: Any, messages: list[dict[str, Any]]) -> set[str] | None:
        """Ids to keep on the queue; None means the whole batch failed."""
        if not self.mapping.report_batch_item_failures:
            return set()
        failures = (response or {}).get("batchItemFailures", []) if isinstance(response, dict) else []
        ids = {failure.get("itemIdentifier") for failure in failures}
        if not ids <= {m["MessageId"] for m in messages}:
            logger.error(
                "batchItemFailures names unknown messages; whole batch fails", extra={"function": self.mapping.function}
            )
            return None
        return ids


class StreamPoller(FunctionThread):
    """Reads one table's stream for one function until stopped."""

    def __init__(
        self,
        mapping: StreamMapping,
        streams: Any,
        region: str,
        account: str,
        stop: threading.Event,
        handler: Handler | None = None,
    ) -> None:
        """`streams` (a dynamodbstreams client) reads the stream; the handler runs with the
        mapping's credentials. The stream is read from its current end on."""
        super().__init__(mapping, "stream", region, account, stop, handler)
        self.mapping = mapping
        self._streams = streams
        self._done = {shard: self._last_sequence_number(shard) for shard in self._shards()}

    def _shards(self) -> list[str]:
        description = self._streams.describe_stream(StreamArn=self.mapping.stream_arn)["StreamDescription"]
        return [shard["ShardId"] for shard in description["Shards"]]

    def _read(self, shard: str, after: str | None, limit: int) -> list[dict[str, Any]]:
        position = (
            {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": after}
            if after
            else {"ShardIteratorType": "TRIM_HORIZON"}
        )
        iterator = self._streams.get_shard_iterator(StreamArn=self.mapping.stream_arn, ShardId=shard, **position)[
            "ShardIterator"
        ]
        records: list[dict[str, Any]] = self._streams.get_records(ShardIterator=iterator, Limit=limit)["Records"]
        return records

    def _last_sequence_number(self, shard: str) -> str | None:
        last = None
        while records := self._read(shard, last, 1000):
            last = records[-1]["dynamodb"]["SequenceNumber"]
        return last

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                busy = False
                for shard, done in list(self._done.items()):
                    records = self._read(shard, done, self.mapping.batch_size)
                    if records:
                        busy = True
                        self._done[shard] = self.invoke(records, done)
                if not busy:
                    self._stop_event.wait(STREAM_POLL_SECONDS)
            except Exception:  # the poller must outlive one bad read
                if self._stop_event.is_set():
                    break
                logger.exception("stream poll failed", extra={"function": self.mapping.function})
                self._stop_event.wait(RETRY_SECONDS)

    def invoke(self, records: list[dict[str, Any]], done: str | None) -> str | None:
        """Call the handler with one batch; the sequence number of the last record done."""
        event = {"Records": [{**r, "eventSourceARN": self.mapping.stream_arn} for r in records]}
        self.invocations += 1
        try:
            with acting_as(self.mapping.credentials):
                response = self._handler(event, invocation_context(self.mapping, self._arn))
        except Exception:
            logger.exception(
                "function failed; its stream records are handed over again", extra={"function": self.mapping.function}
            )
            self._stop_event.wait(RETRY_SECONDS)
            return done
        failures = (response or {}).get("batchItemFailures", []) if self.mapping.report_batch_item_failures else []
        numbers = [r["dynamodb"]["SequenceNumber"] for r in records]
        failed = [numbers.index(f.get("itemIdentifier")) for f in failures if f.get("itemIdentifier") in numbers]
        if len(failed) != len(failures):
            logger.error(
                "batchItemFailures names unknown records; whole batch fails", extra={"function": self.mapping.function}
            )
            self._stop_event.wait(RETRY_SECONDS)
            return done
        if not failed:
            return numbers[-1]
        self._stop_event.wait(RETRY_SECONDS)
        first = min(failed)
        return numbers[first - 1] if first else done


class ScheduledInvoker(FunctionThread):
    """Runs one scheduled function every period until stopped, as an EventBridge schedule
    would: first one period after the start, with a `Scheduled Event`, as the function's role.
    A failed run is logged and the next one comes on time, as on AWS."""

    def __init__(
        self,
        schedule: ScheduledFunction,
        region: str,
        account: str,
        stop: threading.Event,
        handler: Handler | None = None,
    ) -> None:
        super().__init__(schedule, "schedule", region, account, stop, handler)
        self.schedule = schedule

    def run(self) -> None:
        while not self._stop_event.wait(self.schedule.period_seconds):
            try:
                self.invoke()
            except Exception:
                logger.exception("scheduled function failed", extra={"function": self.schedule.function})

    def invoke(self) -> Any:
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": self._account,
            "time": now_iso(),
            "region": self._region,
            "resources": [f"arn:aws:events:{self._region}:{self._account}:rule/{self.schedule.function_name}"],
            "detail": {},
        }
        self.invocations += 1
        with acting_as(self.schedule.credentials):
            return self._handler(event, invocation_context(self.schedule, self._arn))


class EventSourceRunner:
    """All the pollers of a template's SQS- and stream-triggered functions, each polling with
    its function's role (`sqs` gives the endpoint and region, and is used as it is for a
    mapping without one), and its scheduled functions. Stream pollers take their place at the
    stream's end when the runner is made: changes from then on reach their functions."""

    def __init__(
        self,
        mappings: list[EventSourceMapping],
        sqs: Any,
        region: str,
        account: str,
        schedules: list[ScheduledFunction] | None = None,
        streams: list[StreamMapping] | None = None,
    ) -> None:
        self._stop_event = threading.Event()
        self.pollers = [
            EventSourcePoller(m, client_as(sqs, m.credentials), region, account, self._stop_event) for m in mappings
        ]
        self.streams = [
            StreamPoller(m, client_as(sqs, m.credentials, "dynamodbstreams"), region, account, self._stop_event)
            for m in streams or []
        ]
        self.schedules = [ScheduledInvoker(s, region, account, self._stop_event) for s in schedules or []]

    def _threads(self) -> list[FunctionThread]:
        return [*self.pollers, *self.streams, *self.schedules]

    def start(self) -> None:
        for thread in self._threads():
            thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop_event.set()
        for thread in self._threads():
            thread.join(timeout)
