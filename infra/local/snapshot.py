"""Keep the embedded emulator's data on disk, so `make up` can stop and start again.

moto keeps state in memory only. The snapshot reads it back through the same AWS APIs the
service uses (DynamoDB scans, S3 objects, secret values, queued messages) into one folder,
and writes it into a fresh emulator after the template's resources exist. S3 objects are
copied incrementally by ETag, so periodic snapshots stay cheap.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

import boto3

from infra.local.bootstrap import LocalResources


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def _read_json(path: Path, default: Any) -> Any:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else default


def _is_s3_test_event(body: str) -> bool:
    try:
        document = json.loads(body)
    except ValueError:
        return False
    return isinstance(document, dict) and document.get("Event") == "s3:TestEvent"


class EmulatorSnapshot:
    """Saves and restores tables, buckets, secrets and queued messages under `folder`."""

    def __init__(self, folder: Path, session: boto3.session.Session, endpoint_url: str) -> None:
        self.folder = folder
        self._client = lambda service: session.client(service, endpoint_url=endpoint_url)

    # ------------------------------------------------------------------ save
    def save(self, resources: LocalResources, *, drain_queues: bool = False) -> None:
        """Write the current state; `drain_queues` also moves queued messages to disk.

        Draining receives the messages, so it is only done once nothing consumes the
        queues any more (on shutdown).
        """
        for table in resources.names_of("AWS::DynamoDB::Table"):
            self._save_table(table)
        for bucket in resources.names_of("AWS::S3::Bucket"):
            self._save_bucket(bucket)
        self._save_secrets(resources.names_of("AWS::SecretsManager::Secret"))
        if drain_queues:
            for queue in resources.names_of("AWS::SQS::Queue"):
                self._drain_queue(queue)

    def _save_table(self, table: str) -> None:
        paginator = self._client("dynamodb").get_paginator("scan")
        lines = [
            json.dumps(item, sort_keys=True) for page in paginator.paginate(TableName=table) for item in page["Items"]
        ]
        _write_atomically(self.folder / "dynamodb" / f"{table}.jsonl", "\n".join(lines))

    def _save_bucket(self, bucket: str) -> None:
        s3 = self._client("s3")
        root = self.folder / "s3" / bucket
        index_path = root / "index.json"
        previous: dict[str, dict[str, Any]] = _read_json(index_path, {})
        current: dict[str, dict[str, Any]] = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for summary in page.get("Contents", []):
                key, etag = summary["Key"], summary["ETag"]
                if key in previous and previous[key]["etag"] == etag:
                    current[key] = previous[key]
                    continue
                obj = s3.get_object(Bucket=bucket, Key=key)
                blob = hashlib.sha256(key.encode()).hexdigest()
                (root / "objects").mkdir(parents=True, exist_ok=True)
                with (root / "objects" / blob).open("wb") as handle:
                    shutil.copyfileobj(obj["Body"], handle)
                current[key] = {
                    "etag": etag,
                    "blob": blob,
                    "content_type": obj.get("ContentType", "binary/octet-stream"),
                    "metadata": obj.get("Metadata", {}),
                }
        for key in previous.keys() - current.keys():
            (root / "objects" / previous[key]["blob"]).unlink(missing_ok=True)
        _write_atomically(index_path, json.dumps(current, indent=1, sort_keys=True))

    def _save_secrets(self, names: list[str]) -> None:
        manager = self._client("secretsmanager")
        values = {name: manager.get_secret_value(SecretId=name)["SecretString"] for name in names}
        _write_atomically(self.folder / "secrets.json", json.dumps(values, indent=1))

    def _drain_queue(self, queue: str) -> None:
        sqs = self._client("sqs")
        url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
        path = self.folder / "sqs" / f"{queue}.jsonl"
        saved = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        while True:
            batch = sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=0,
                VisibilityTimeout=60,
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not batch:
                break
            for message in batch:
                if _is_s3_test_event(message["Body"]):
                    continue  # re-sent whenever notifications are configured
                saved.append(
                    json.dumps(
                        {
                            "body": message["Body"],
                            "attributes": message.get("MessageAttributes", {}),
                        }
                    )
                )
            sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)],
            )
        _write_atomically(path, "\n".join(saved))

    # --------------------------------------------------------------- restore
    def restore(self, resources: LocalResources) -> dict[str, int]:
        """Write the saved state into the emulator; returns counts of what came back."""
        counts = {"items": 0, "objects": 0, "secrets": 0, "messages": 0}
        for table in resources.names_of("AWS::DynamoDB::Table"):
            counts["items"] += self._restore_table(table)
        for bucket in resources.names_of("AWS::S3::Bucket"):
            counts["objects"] += self._restore_bucket(bucket)
        counts["secrets"] = self._restore_secrets(resources.names_of("AWS::SecretsManager::Secret"))
        for queue in resources.names_of("AWS::SQS::Queue"):
            counts["messages"] += self._restore_queue(queue)
        return counts

    def _restore_table(self, table: str) -> int:
        path = self.folder / "dynamodb" / f"{table}.jsonl"
        if not path.exists():
            return 0
        items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
        dynamodb = self._client("dynamodb")
        for start in range(0, len(items), 25):
            requests = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
            pending = {table: requests}
            while pending:
                pending = dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems", {})
        return len(items)

    def _restore_bucket(self, bucket: str) -> int:
        root = self.folder / "s3" / bucket
        index: dict[str, dict[str, Any]] = _read_json(root / "index.json", {})
        s3 = self._client("s3")
        for key, entry in index.items():
            with (root / "objects" / entry["blob"]).open("rb") as body:
                s3.put_object(
                    Bucket=bucket,
                    Key=key,
                    Body=body,
                    ContentType=entry["content_type"],
                    Metadata=entry["metadata"],
                )
            # the emulator computes the same ETag for the same bytes; keep the index true
            entry["etag"] = s3.head_object(Bucket=bucket, Key=key)["ETag"]
        if index:
            _write_atomically(root / "index.json", json.dumps(index, indent=1, sort_keys=True))
        return len(index)

    def _restore_secrets(self, names: list[str]) -> int:
        values: dict[str, str] = _read_json(self.folder / "secrets.json", {})
        manager = self._client("secretsmanager")
        restored = 0
        for name in names:
            if name in values:
                manager.put_secret_value(SecretId=name, SecretString=values[name])
                restored += 1
        return restored

    def _restore_queue(self, queue: str) -> int:
        path = self.folder / "sqs" / f"{queue}.jsonl"
        if not path.exists():
            return 0
        sqs = self._client("sqs")
        url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
        lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
        for message in lines:
            request: dict[str, Any] = {"QueueUrl": url, "MessageBody": message["body"]}
            if message["attributes"]:
                request["MessageAttributes"] = message["attributes"]
            sqs.send_message(**request)
        path.unlink()
        return len(lines)
