"""Feed SQS-triggered functions the way Lambda's event source mappings do, and run
scheduled functions the way an EventBridge schedule does.

For each `Events: {Type: SQS}` entry of the template, a thread long-polls the queue,
gathers up to BatchSize messages within MaximumBatchingWindowInSeconds, and calls the
function's handler with a Lambda-shaped event. Like Lambda: a raised error returns the
whole batch to the queue (it becomes visible again after the visibility timeout and
eventually redrives to the DLQ); with ReportBatchItemFailures only the reported messages
return; an unknown identifier in the report fails the whole batch.

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

from infra.local.bootstrap import EventSourceMapping, LocalFunction, ScheduledFunction
from voxify.aws import Credentials, acting_as
from voxify.clock import now_iso
from voxify.observability import logger

MAX_RECEIVE = 10  # SQS's per-call maximum


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


def client_as(sqs: Any, credentials: Credentials | None) -> Any:
    """An SQS client like `sqs` (same endpoint and region) that calls with `credentials`."""
    if credentials is None:
        return sqs
    session = boto3.session.Session(
        aws_access_key_id=credentials.access_key_id,
        aws_secret_access_key=credentials.secret_access_key,
        aws_session_token=credentials.session_token,
        region_name=sqs.meta.region_name,
    )
    return session.client("sqs", endpoint_url=sqs.meta.endpoint_url)


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
    """All the pollers of a template's SQS-triggered functions, each polling with its function's
    role (`sqs` gives the endpoint and region, and is used as it is for a mapping without one),
    and its scheduled functions."""

    def __init__(
        self,
        mappings: list[EventSourceMapping],
        sqs: Any,
        region: str,
        account: str,
        schedules: list[ScheduledFunction] | None = None,
    ) -> None:
        self._stop_event = threading.Event()
        self.pollers = [
            EventSourcePoller(m, client_as(sqs, m.credentials), region, account, self._stop_event) for m in mappings
        ]
        self.schedules = [ScheduledInvoker(s, region, account, self._stop_event) for s in schedules or []]

    def start(self) -> None:
        for thread in [*self.pollers, *self.schedules]:
            thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop_event.set()
        for thread in [*self.pollers, *self.schedules]:
            thread.join(timeout)
