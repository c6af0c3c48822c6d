"""The work queues: the versioned message schema, and sending work.

A message names a unit of work by id only; everything else is read from the record, so a
late or duplicated message can never carry stale instructions.
"""

import json
from collections.abc import Callable, Sequence
from typing import Any, Literal
from urllib.parse import unquote_plus

from pydantic import BaseModel, ConfigDict

from voxify.aws import client
from voxify.errors import ErrorCode, VoxifyError
from voxify.observability import logger
from voxify.settings import get_settings

WORK_MESSAGE_VERSION: Literal[1] = 1
SEND_BATCH_ENTRIES = 10  # SendMessageBatch's limit


class WorkMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    version: Literal[1] = WORK_MESSAGE_VERSION
    # synthesis: a job. sample: process an upload. clone: embed and check a new clone.
    # search: answer a similar-voice search. forget: drop a deleted voice's embeddings.
    # watermark: check an uploaded file for the watermark. verify: check a clone's
    # verification recording.
    kind: Literal["synthesis", "sample", "clone", "search", "forget", "watermark", "verify"]
    id: str
    user_id: str | None = None


def upload_key(user_id: str, sample_id: str) -> str:
    """Where a presigned sample upload lands; the S3 event names the sample by this key."""
    return f"uploads/{user_id}/{sample_id}"


def parse_work(body: str) -> list[WorkMessage]:
    """The work a queue message asks for: a WorkMessage, or S3 upload notifications.

    S3 notifications reach the uploads queue directly from the bucket; their keys arrive
    `quote_plus`-encoded. The configuration-time `s3:TestEvent` asks for no work.
    Raises ValueError (pydantic's ValidationError included) for anything else.
    """
    document: Any = json.loads(body)
    if isinstance(document, dict) and ("Records" in document or document.get("Event") == "s3:TestEvent"):
        work = []
        for record in document.get("Records", []):
            parts = unquote_plus(record["s3"]["object"]["key"]).split("/")
            if len(parts) != 3 or parts[0] != "uploads" or not all(parts):
                raise ValueError(f"upload key {'/'.join(parts)!r} does not name a sample")
            work.append(WorkMessage(kind="sample", id=parts[2], user_id=parts[1]))
        return work
    return [WorkMessage.model_validate(document)]


class WorkQueue:
    """Sends work: synthesis to the jobs queue, voice work (samples, clones, searches) to
    the uploads queue, so a search never waits behind long synthesis jobs."""

    def __init__(self) -> None:
        settings = get_settings()
        self._jobs_url = settings.jobs_queue_url
        self._voices_url = settings.uploads_queue_url
        self._sqs = client("sqs")

    def _url(self, kind: str) -> str:
        return self._jobs_url if kind == "synthesis" else self._voices_url

    def send(self, message: WorkMessage) -> None:
        self._sqs.send_message(QueueUrl=self._url(message.kind), MessageBody=message.model_dump_json())

    def send_all(self, messages: Sequence[WorkMessage]) -> list[WorkMessage]:
        """Send many messages in SendMessageBatch calls of at most SEND_BATCH_ENTRIES (each
        message is a few hundred bytes, far below the call's 256 KiB); returns the messages
        that were not sent (refused entries, or every entry of a call that failed)."""
        unsent: list[WorkMessage] = []
        by_queue: dict[str, list[WorkMessage]] = {}
        for message in messages:
            by_queue.setdefault(self._url(message.kind), []).append(message)
        for url, queued in by_queue.items():
            for start in range(0, len(queued), SEND_BATCH_ENTRIES):
                chunk = queued[start : start + SEND_BATCH_ENTRIES]
                entries = [{"Id": str(i), "MessageBody": m.model_dump_json()} for i, m in enumerate(chunk)]
                try:
                    failed = self._sqs.send_message_batch(QueueUrl=url, Entries=entries).get("Failed", [])
                except Exception:
                    logger.exception("batch enqueue failed", extra={"queue": url, "entries": len(chunk)})
                    unsent += chunk
                    continue
                unsent += [chunk[int(entry["Id"])] for entry in failed]
        return unsent

    def depth(self, kind: str = "synthesis") -> dict[str, int]:
        attributes = self._sqs.get_queue_attributes(
            QueueUrl=self._url(kind),
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return {
            "waiting": int(attributes["ApproximateNumberOfMessages"]),
            "in_flight": int(attributes["ApproximateNumberOfMessagesNotVisible"]),
        }


def enqueue_or_undo(message: WorkMessage, undo: Callable[[], object], what: str) -> None:
    """Queue the work for a record just written; if the queue refuses, undo the write and
    answer 503 QUEUE_UNAVAILABLE, so no record waits for work nobody was asked to do."""
    try:
        WorkQueue().send(message)
    except Exception as error:
        logger.exception("enqueue failed; write undone", extra={"kind": message.kind, "id": message.id})
        undo()
        raise VoxifyError(
            ErrorCode.QUEUE_UNAVAILABLE, f"the {what} could not be queued; try again", headers={"Retry-After": "5"}
        ) from error
