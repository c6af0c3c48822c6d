"""Long-polls the work queues and hands each piece of work to the handler for its kind.

Settling rules: success deletes the message; an error makes it visible again after a
backoff so SQS redelivers it (after the queue's maxReceiveCount it moves to the DLQ, whose
function fails the job with its last error); a message that is not a valid WorkMessage is
deleted and logged, since no number of retries can fix it. On stop, messages not yet
started are handed back at once (visibility 0) for another worker.

Keeping the engine busy: a consumer may take up to `prefetch` messages beyond the one it
starts (so the next job is in hand when the engine frees up; one held past half its lease is
extended before it starts, or left to the queue if that fails), and with `overlap` a
handler's rest (a synthesis job's post-processing, files and completion, returned by the
handler) runs on a background lane while the next message's engine work starts. One rest at
a time: the next waits for the one before it. The message is settled when its rest ends, by
the same rules, and the task stays scale-in protected until then; a stopping consumer
finishes the rest in hand before it returns.

Batching (a GPU engine serves several jobs in one pass): with a `batch` policy and a batch
handler for a kind, a receive waits up to the policy's bound for more messages (never more
than `max_batch_size`, at most 10), and the messages that each hold one work of that kind
go to the batch handler together. It answers one step per work (its rest, or its own
error, raised when the step runs), so each message is settled by its own outcome exactly
as a message alone would be; their rests run one after another on the lane.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from time import monotonic
from typing import Any

from voxify.observability import logger
from voxify.queue import WorkMessage, parse_work
from voxify_worker.runtime.batch_former import BatchFormer, BatchPolicy, gather
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


Rest = Callable[[], None]
"""What a handler leaves to run after it returns (it may run on another thread)."""

WorkHandler = Callable[[WorkMessage, Delivery], Rest | None]

Step = Callable[[], Rest | None]
"""One work's part of a batch: returns its rest (None: done), or raises its own error."""

BatchHandler = Callable[[Sequence[tuple[WorkMessage, Delivery]]], list[Step]]
"""Works of one kind received together: one step per work, in order."""

Finishing = tuple[dict[str, Any], Delivery, Rest, contextvars.Context]
"""A message whose rest is still to run, in the logging context its work ran in."""


class WorkDeferred(Exception):
    """The work cannot start yet (another worker's live claim holds it): the message must
    come back after `delay_seconds`, neither deleted nor counted as a failure."""

    def __init__(self, delay_seconds: int, reason: str) -> None:
        super().__init__(reason)
        self.delay_seconds = delay_seconds


class Lane:
    """A background thread that runs one rest of a piece of work at a time: `run` waits for
    the rest before to end, so at most one job is finishing while the next one renders."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="finisher")
        self._last: Future[None] | None = None

    def run(self, rest: Rest, context: contextvars.Context) -> None:
        """Start `rest` in `context` (the handler's, so that its log lines carry the ids of
        its own work) once the one before has ended."""
        self.wait()
        self._last = self._executor.submit(context.run, rest)

    def wait(self) -> None:
        """Until the rest in hand has ended. A rest settles its own message; should even
        that fail (the queue unreachable), the message comes back when its lease ends, and
        the consumer carries on."""
        if self._last is not None:
            try:
                self._last.result()
            except Exception:
                logger.exception("settling finished work failed; its message returns after its lease")
            self._last = None

    def close(self) -> None:
        self.wait()
        self._executor.shutdown()


class WorkConsumer:
    def __init__(
        self,
        sqs: Any,
        queue_urls: list[str],
        handlers: dict[str, WorkHandler],
        wait_seconds: int = 20,
        lease_seconds: int = 120,
        protection: ScaleInProtection | None = None,
        prefetch: int = 0,
        overlap: bool = False,
        batch: BatchPolicy | None = None,
        batch_handlers: dict[str, BatchHandler] | None = None,
    ) -> None:
        """`protection` is shared by all the consumers of one task (none: unprotected);
        `batch` (with `batch_handlers`) lets works of those kinds be taken together."""
        self._sqs = sqs
        self._queue_urls = queue_urls
        self._handlers = handlers
        self._wait_seconds = wait_seconds
        self._lease_seconds = lease_seconds
        self._protection = protection or ScaleInProtection(None)
        self._prefetch = max(0, min(prefetch, 9))  # ReceiveMessage takes at most 10
        self._lane = Lane() if overlap else None
        self._batch = batch if batch_handlers else None
        self._batch_handlers = (batch_handlers or {}) if self._batch else {}
        self.processed = 0

    @property
    def queue_urls(self) -> list[str]:
        return list(self._queue_urls)

    def run(self, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                for url in self._queue_urls:
                    if stop.is_set():
                        break
                    self._take(url, stop)
        finally:
            if self._lane is not None:
                self._lane.close()

    def _take(self, url: str, stop: threading.Event) -> None:
        """One receive from `url` (or, batching, a bounded wait for a batch), and each
        message it brought settled (or handed back)."""
        try:
            messages = self._receive_batch(url) if self._batch else self._receive(url, 1 + self._prefetch)
        except Exception:
            logger.exception("receiving work failed; retrying", extra={"queue": url})
            stop.wait(RECEIVE_RETRY_SECONDS)
            return
        received = monotonic()
        batches, singles = self._group(messages)
        for kind, batch in batches.items():
            if stop.is_set():
                for message in batch:
                    self._hand_back(url, message)
            else:
                self.settle_batch(url, kind, [m for m in batch if self._still_ours(url, m, received)])
        for message in singles:
            if stop.is_set():
                self._hand_back(url, message)
            elif self._still_ours(url, message, received):
                self.settle(url, message)

    def _receive(self, url: str, count: int, wait_seconds: int | None = None) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = self._sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=count,
            WaitTimeSeconds=self._wait_seconds if wait_seconds is None else wait_seconds,
            VisibilityTimeout=self._lease_seconds,
            AttributeNames=["ApproximateReceiveCount"],
        ).get("Messages", [])
        return messages

    def _receive_batch(self, url: str) -> list[dict[str, Any]]:
        """Messages until a batch is due: full, or its first message waited the policy's
        bound (SQS waits in whole seconds: a shorter wait polls without waiting)."""
        assert self._batch is not None
        former: BatchFormer[dict[str, Any]] = BatchFormer(self._batch)

        def receive(timeout: float) -> list[dict[str, Any]]:
            return self._receive(url, self._batch_room(former), min(self._wait_seconds, int(timeout)))

        return gather(receive, former, idle_wait_seconds=self._wait_seconds)

    def _batch_room(self, former: BatchFormer[dict[str, Any]]) -> int:
        assert self._batch is not None
        return max(1, min(10, self._batch.max_batch_size) - len(former))

    def _group(self, messages: list[dict[str, Any]]) -> tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]]]:
        """Messages holding one work of a batched kind, by kind (two or more of a kind),
        and the rest in order of arrival."""
        by_kind: dict[str, list[dict[str, Any]]] = {}
        for message in messages:
            kind = self._batch_kind(message)
            if kind is not None:
                by_kind.setdefault(kind, []).append(message)
        batches = {kind: batch for kind, batch in by_kind.items() if len(batch) > 1}
        batched = {id(message) for batch in batches.values() for message in batch}
        return batches, [message for message in messages if id(message) not in batched]

    def _batch_kind(self, message: dict[str, Any]) -> str | None:
        try:
            works = parse_work(message["Body"])
        except ValueError:
            return None  # settled alone, which deletes it
        return works[0].kind if len(works) == 1 and works[0].kind in self._batch_handlers else None

    def _still_ours(self, queue_url: str, message: dict[str, Any], received: float) -> bool:
        """A held message about to start: one held past half its lease gets a fresh lease
        first; if that fails, it is left to the queue (it may be another worker's by now)."""
        if monotonic() - received < self._lease_seconds / 2:
            return True
        try:
            self._sqs.change_message_visibility(
                QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=self._lease_seconds
            )
        except Exception:
            logger.warning("a held message's lease could not be renewed; left to the queue")
            return False
        return True

    def settle(self, queue_url: str, message: dict[str, Any]) -> None:
        try:
            works = parse_work(message["Body"])
        except ValueError as error:
            logger.error("invalid work message deleted", extra={"error": str(error)[:500]})
            self._delete(queue_url, message)
            return
        delivery = self._delivery(queue_url, message)
        try:
            with ExitStack() as held:
                held.enter_context(self._protection.held())
                rest = self._attempt(queue_url, message, delivery, lambda: self._handle(works, delivery))
                if rest is not None:
                    self._finish(queue_url, [(message, delivery, rest, contextvars.copy_context())], held)
        finally:
            logger.thread_safe_clear_keys()  # this thread's work ids (the worker id is for every thread)

    def settle_batch(self, queue_url: str, kind: str, messages: list[dict[str, Any]]) -> None:
        """Messages of one work each, of `kind`, through its batch handler together; each
        settled by its own step, in its own logging context (its work's ids)."""
        if not messages:
            return
        deliveries = [self._delivery(queue_url, message) for message in messages]
        works = [parse_work(message["Body"])[0] for message in messages]
        try:
            with ExitStack() as held:
                held.enter_context(self._protection.held())
                steps = self._batch_steps(kind, works, deliveries)
                rests: list[Finishing] = []
                for message, delivery, step, work in zip(messages, deliveries, steps, works, strict=True):
                    context = contextvars.copy_context()
                    context.run(logger.thread_safe_append_keys, work_id=work.id, work_kind=work.kind)
                    rest = context.run(self._attempt, queue_url, message, delivery, step)
                    if rest is not None:
                        rests.append((message, delivery, rest, context))
                if rests:
                    self._finish(queue_url, rests, held)
        finally:
            logger.thread_safe_clear_keys()

    def _batch_steps(self, kind: str, works: list[WorkMessage], deliveries: list[Delivery]) -> list[Step]:
        """The batch handler's steps; should it fail as a whole, each step raises that error
        (so every message returns after a backoff, as a failed message alone would)."""
        try:
            return self._batch_handlers[kind](list(zip(works, deliveries, strict=True)))
        except Exception as error:
            failure = error

            def fail() -> Rest | None:
                raise failure

            return [fail] * len(works)

    def _finish(self, queue_url: str, rests: list[Finishing], held: ExitStack) -> None:
        """Run the rests in order and settle each one's message: on the lane (protection held
        until they have run) or here."""
        if self._lane is None:
            for message, delivery, rest, context in rests:
                context.run(self._attempt, queue_url, message, delivery, rest)
            return
        protection = held.pop_all()

        def finish() -> None:
            with protection:
                for message, delivery, rest, context in rests:
                    context.run(self._attempt, queue_url, message, delivery, rest)

        self._lane.run(finish, contextvars.copy_context())

    def _delivery(self, queue_url: str, message: dict[str, Any]) -> Delivery:
        receives = int(message.get("Attributes", {}).get("ApproximateReceiveCount", 1))
        return Delivery(self._sqs, queue_url, message["ReceiptHandle"], receives)

    def _attempt(
        self, queue_url: str, message: dict[str, Any], delivery: Delivery, step: Callable[[], Rest | None]
    ) -> Rest | None:
        """Run a step of the work and settle the message by its end, unless it left a rest
        to run (returned here, the message still in hand)."""
        try:
            rest = step()
        except WorkDeferred as deferred:
            logger.info("work deferred", extra={"reason": str(deferred), "delay": deferred.delay_seconds})
            delivery.extend(min(max(1, deferred.delay_seconds), MAX_VISIBILITY_SECONDS))
            return None
        except Exception:
            logger.exception("work failed; the queue will redeliver it", extra={"receives": delivery.receive_count})
            delivery.extend(min(RETRY_BACKOFF_SECONDS * delivery.receive_count, MAX_VISIBILITY_SECONDS))
            return None
        if rest is None:
            self._delete(queue_url, message)
            self.processed += 1
        return rest

    def _handle(self, works: list[WorkMessage], delivery: Delivery) -> Rest | None:
        """Each work of the message in turn; an earlier one's rest runs before the next starts."""
        rest: Rest | None = None
        for work in works:
            if rest is not None:
                rest()
            logger.thread_safe_append_keys(work_id=work.id, work_kind=work.kind)
            handler = self._handlers.get(work.kind)
            if handler is None:
                raise LookupError(f"this worker has no handler for {work.kind!r} work")
            rest = handler(work, delivery)
        return rest

    def _delete(self, queue_url: str, message: dict[str, Any]) -> None:
        self._sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])

    def _hand_back(self, queue_url: str, message: dict[str, Any]) -> None:
        try:
            self._sqs.change_message_visibility(
                QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )
        except Exception:  # it comes back when its lease ends all the same
            logger.exception("a message could not be handed back")
