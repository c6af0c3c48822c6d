"""Long-polls the work queues and hands each piece of work to the handler for its kind.

Settling rules: success deletes the message; an error makes it visible again after a
backoff so SQS redelivers it (after the queue's maxReceiveCount it moves to the DLQ, whose
function fails the job with its last error); a message that is not a valid WorkMessage is
deleted and logged, since no number of retries can fix it. On stop, messages not yet
started are handed back at once (visibility 0) for another worker.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from voxify.observability import logger
from voxify.queue import WorkMessage, parse_work
from voxify_worker.runtime.protection import ScaleInProtection

RETRY_BACKOFF_SECONDS = 15
RECEIVE_RETRY_SECONDS = 2.0
MAX_VISIBILITY_SECONDS = 900  # the longest a backoff keeps a message away


@dataclass(frozen=True)
class Delivery:
    """The SQS message a piece of work arrived in, for handlers that must extend it."""

    sqs: Any
    queue_url: str
    receipt_handle: str
    receive_count: int

    def extend(self, seconds: int) -> None:
        self.sqs.change_message_visibility(
            QueueUrl=self.queue_url, ReceiptHandle=self.receipt_handle, VisibilityTimeout=seconds
        )


WorkHandler = Callable[[WorkMessage, Delivery], None]


class WorkDeferred(Exception):
    """The work cannot start yet (another worker's live claim holds it): the message must
    come back after `delay_seconds`, neither deleted nor counted as a failure."""

    def __init__(self, delay_seconds: int, reason: str) -> None:
        super().__init__(reason)
        self.delay_seconds = delay_seconds


class WorkConsumer:
    def __init__(
        self,
        sqs: Any,
        queue_urls: list[str],
        handlers: dict[str, WorkHandler],
        wait_seconds: int = 20,
        lease_seconds: int = 120,
        protection: ScaleInProtection | None = None,
    ) -> None:
        """`protection` is shared by all the consumers of one task (none: unprotected)."""
        self._sqs = sqs
        self._queue_urls = queue_urls
        self._handlers = handlers
        self._wait_seconds = wait_seconds
        self._lease_seconds = lease_seconds
        self._protection = protection or ScaleInProtection(None)
        self.processed = 0

    @property
    def queue_urls(self) -> list[str]:
        return list(self._queue_urls)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            for url in self._queue_urls:
                if stop.is_set():
                    break
                try:
                    messages = self._sqs.receive_message(
                        QueueUrl=url,
                        MaxNumberOfMessages=1,
                        WaitTimeSeconds=self._wait_seconds,
                        VisibilityTimeout=self._lease_seconds,
                        AttributeNames=["ApproximateReceiveCount"],
                    ).get("Messages", [])
                except Exception:
                    logger.exception("receiving work failed; retrying", extra={"queue": url})
                    stop.wait(RECEIVE_RETRY_SECONDS)
                    continue
                for message in messages:
                    if stop.is_set():
                        self._hand_back(url, message)
                    else:
                        self.settle(url, message)

    def settle(self, queue_url: str, message: dict[str, Any]) -> None:
        try:
            works = parse_work(message["Body"])
        except ValueError as error:
            logger.error("invalid work message deleted", extra={"error": str(error)[:500]})
            self._delete(queue_url, message)
            return
        receives = int(message.get("Attributes", {}).get("ApproximateReceiveCount", 1))
        delivery = Delivery(self._sqs, queue_url, message["ReceiptHandle"], receives)
        try:
            with self._protection.held():
                self._handle(works, delivery)
        except WorkDeferred as deferred:
            logger.info("work deferred", extra={"reason": str(deferred), "delay": deferred.delay_seconds})
            delivery.extend(min(max(1, deferred.delay_seconds), MAX_VISIBILITY_SECONDS))
        except Exception:
            logger.exception("work failed; the queue will redeliver it", extra={"receives": receives})
            delivery.extend(min(RETRY_BACKOFF_SECONDS * receives, MAX_VISIBILITY_SECONDS))
        else:
            self._delete(queue_url, message)
            self.processed += 1
        finally:
            logger.remove_keys(["work_id", "work_kind", "job_id", "sample_id"])

    def _handle(self, works: list[WorkMessage], delivery: Delivery) -> None:
        for work in works:
            logger.append_keys(work_id=work.id, work_kind=work.kind)
            handler = self._handlers.get(work.kind)
            if handler is None:
                raise LookupError(f"this worker has no handler for {work.kind!r} work")
            handler(work, delivery)

    def _delete(self, queue_url: str, message: dict[str, Any]) -> None:
        self._sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])

    def _hand_back(self, queue_url: str, message: dict[str, Any]) -> None:
        self._sqs.change_message_visibility(
            QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )
