"""The floor `bench.api_load` measures the API against: a bare ASGI app that makes only the
AWS calls a job create and a job read cannot avoid, with the same clients, and nothing else
(no authentication, validation, envelope or framework).

- `POST /job`: one TransactWriteItems (the job item, the caller's daily quota and per-minute
  count as conditional updates, a check that the voice is the caller's and ready) and one
  SQS SendMessage;
- `GET /job/{id}`: one consistent GetItem.

Run by the benchmark with the API process's environment (same emulator, tables, queue and
role), plus BENCH_USER_ID and BENCH_VOICE_ID naming the caller and a ready voice of theirs.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import anyio

from voxify.aws import client, resource
from voxify.clock import epoch, now_iso
from voxify.settings import get_settings

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

USER_ID = os.environ.get("BENCH_USER_ID", "")
VOICE_ID = os.environ.get("BENCH_VOICE_ID", "")


def create_job() -> dict[str, Any]:
    settings = get_settings()
    table, counters = settings.table_name, settings.rate_limit_table_name
    now, job_id = epoch(), f"job_{uuid.uuid4().hex}"
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    created = now_iso()
    item = {
        "pk": f"JOB#{job_id}",
        "sk": "JOB",
        "gsi1pk": f"USER#{USER_ID}#JOBS",
        "gsi1sk": created,
        "gsi2pk": "JOBSTATE#pending",
        "gsi2sk": created,
        "job_id": job_id,
        "user_id": USER_ID,
        "status": "pending",
        "voice_model_id": VOICE_ID,
        "blocks": [{"text": "Hi.", "wait_after_ms": 0}],
        "created_at": created,
        "updated_at": created,
    }
    resource("dynamodb").meta.client.transact_write_items(
        TransactItems=[
            {
                "ConditionCheck": {
                    "TableName": table,
                    "Key": {"pk": f"CLONE#{VOICE_ID}", "sk": "CLONE"},
                    "ConditionExpression": "user_id = :owner AND #status = :ready",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": {":owner": USER_ID, ":ready": "ready"},
                }
            },
            {
                "Update": {
                    "TableName": counters,
                    "Key": {"pk": f"QUOTA#{USER_ID}#job#{day}"},
                    "UpdateExpression": "ADD used :one SET expires_at = :expires",
                    "ConditionExpression": "attribute_not_exists(used) OR used < :limit",
                    "ExpressionAttributeValues": {":one": 1, ":limit": 10**9, ":expires": now + 2 * 86400},
                }
            },
            {
                "Update": {
                    "TableName": counters,
                    "Key": {"pk": f"RATE#{USER_ID}#{now - now % 60}"},
                    "UpdateExpression": "ADD requests :one SET expires_at = :expires",
                    "ConditionExpression": "attribute_not_exists(requests) OR requests < :limit",
                    "ExpressionAttributeValues": {":one": 1, ":limit": 10**9, ":expires": now + 120},
                }
            },
            {"Put": {"TableName": table, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}},
        ]
    )
    client("sqs").send_message(
        QueueUrl=settings.jobs_queue_url,
        MessageBody=json.dumps({"version": 1, "kind": "synthesis", "id": job_id, "user_id": USER_ID}),
    )
    return item


def read_job(job_id: str) -> dict[str, Any] | None:
    table = resource("dynamodb").Table(get_settings().table_name)
    found: dict[str, Any] | None = table.get_item(Key={"pk": f"JOB#{job_id}", "sk": "JOB"}, ConsistentRead=True).get(
        "Item"
    )
    return found


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    while (await receive()).get("more_body"):
        pass
    path, method = scope["path"], scope["method"]
    if method == "POST" and path == "/job":
        status, body = 201, await anyio.to_thread.run_sync(create_job)
    elif method == "GET" and path.startswith("/job/"):
        found = await anyio.to_thread.run_sync(read_job, path.removeprefix("/job/"))
        status, body = (200, found) if found else (404, {})
    else:
        status, body = 404, {}
    payload = json.dumps(body, default=str).encode()
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": payload})
