"""The work queues: the versioned message schema, and sending work.

A message names a unit of work by id only; everything else is read from the record, so a
late or duplicated message can never carry stale instructions.
"""

import json
from typing import Any, Literal
from urllib.parse import unquote_plus

from pydantic import BaseModel, ConfigDict

from voxify.aws import client
from voxify.settings import get_settings

WORK_MESSAGE_VERSION = 1


class WorkMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    version: Literal[1] = WORK_MESSAGE_VERSION
    kind: Literal["synthesis", "sample"]
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
    """Sends work; synthesis goes to the jobs queue, sample processing to the uploads queue."""

    def __init__(self) -> None:
        settings = get_settings()
        self._urls = {"synthesis": settings.jobs_queue_url, "sample": settings.uploads_queue_url}
        self._sqs = client("sqs")

    def send(self, message: WorkMessage) -> None:
        self._sqs.send_message(QueueUrl=self._urls[message.kind], MessageBody=message.model_dump_json())

    def depth(self, kind: str = "synthesis") -> dict[str, int]:
        attributes = self._sqs.get_queue_attributes(
            QueueUrl=self._urls[kind],
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return {"waiting": int(attributes["ApproximateNumberOfMessages"]),
                "in_flight": int(attributes["ApproximateNumberOfMessagesNotVisible"])}
