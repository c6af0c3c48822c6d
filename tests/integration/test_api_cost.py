"""What a request costs in AWS round trips, counted exactly with botocore's `before-send`
event (one per HTTP request to AWS, retries included), and the principal cache that keeps
authentication off a warm request's bill while a change to the account still takes effect
within `principal_cache_seconds`."""

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

import voxify.aws
from tests.fixtures.api import ApiUser, reset_caches
from tests.fixtures.voices import ready_clone
from voxify.settings import get_settings


@pytest.fixture
def aws_calls(monkeypatch) -> Iterator[list[str]]:
    """Every AWS round trip the app makes from here on, as `service.Operation`."""
    calls: list[str] = []
    make_session = voxify.aws._session

    def counted_session(credentials: voxify.aws.Credentials | None) -> Any:
        session = make_session(credentials)
        session.events.register("before-send", lambda event_name, **_: calls.append(event_name.split(".", 1)[1]))
        return session

    monkeypatch.setattr(voxify.aws, "_session", counted_session)
    reset_caches()
    yield calls


@pytest.fixture
def clock(monkeypatch) -> list[float]:
    """The monotonic clock in-process caches expire on; add to `clock[0]` to move it."""
    now = [1000.0]
    monkeypatch.setattr("voxify.clock.monotonic", lambda: now[0])
    return now


def job_body(voice: str) -> dict[str, str]:
    return {"text_content": "Counted.", "voice_model_id": voice}


def test_a_job_create_is_one_transaction_and_one_send_and_a_read_one_get(alice: ApiUser, aws_calls: list[str]):
    voice = ready_clone(alice)
    assert alice.post("/api/v1/job", json=job_body(voice)).status_code == 201  # warms every cache
    aws_calls.clear()

    created = alice.post("/api/v1/job", json=job_body(voice))
    assert created.status_code == 201, created.text
    assert aws_calls == ["dynamodb.TransactWriteItems", "sqs.SendMessage"]

    aws_calls.clear()
    read = alice.get(f"/api/v1/job/{created.json()['data']['job_id']}")
    assert read.status_code == 200 and read.json()["data"]["status"] == "pending"
    assert aws_calls == ["dynamodb.GetItem"]


def test_a_refused_create_changes_nothing(alice: ApiUser, aws_calls: list[str], monkeypatch):
    """Quota and rate limit are conditions of the create's transaction: a refusal writes no
    job and spends nothing, and costs that one round trip."""
    voice = ready_clone(alice)
    monkeypatch.setenv("VOXIFY_DAILY_JOB_QUOTA", "1")
    reset_caches()
    assert alice.post("/api/v1/job", json=job_body(voice)).status_code == 201
    aws_calls.clear()
    refused = alice.post("/api/v1/job", json=job_body(voice))
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "QUOTA_EXCEEDED"
    assert aws_calls == ["dynamodb.TransactWriteItems"]
    assert alice.get("/api/v1/job").json()["meta"]["pagination"]["total_count"] == 1


def test_job_creates_count_against_the_per_minute_limit(alice: ApiUser, monkeypatch):
    voice = ready_clone(alice)
    monkeypatch.setenv("VOXIFY_RATE_LIMIT_PER_MINUTE", "3")
    reset_caches()
    statuses = [alice.post("/api/v1/job", json=job_body(voice)).status_code for _ in range(5)]
    if statuses != [201, 201, 201, 429, 429]:  # the minute turned over mid-test; one more burst
        statuses = [alice.post("/api/v1/job", json=job_body(voice)).status_code for _ in range(5)]
    assert statuses[-1] == 429


def test_a_voice_changed_since_it_was_resolved_is_refused_by_the_transaction(alice: ApiUser):
    voice = ready_clone(alice)
    assert alice.post("/api/v1/job", json=job_body(voice)).status_code == 201  # the voice is now kept
    from voxify.domain.voices import CloneStatus
    from voxify.repositories.voices import CloneRepository

    CloneRepository().set_status(voice, CloneStatus.NEEDS_REVIEW)  # as another process would
    refused = alice.post("/api/v1/job", json=job_body(voice))
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "VOICE_UNDER_REVIEW"


def _profile_table(stack) -> Any:
    """The data table, written as another process would: this one's caches never hear of it."""
    _, resources = stack
    endpoint = get_settings().aws_endpoint_url
    return boto3.resource("dynamodb", endpoint_url=endpoint).Table(resources.environment["VOXIFY_TABLE_NAME"])


def test_a_warm_request_reads_no_principal_and_a_change_elsewhere_lands_within_seconds(
    stack, alice: ApiUser, aws_calls: list[str], clock: list[float]
):
    assert alice.get("/api/v1/job").status_code == 200  # reads the user once
    aws_calls.clear()
    assert alice.get("/api/v1/job").status_code == 200
    assert "dynamodb.GetItem" not in aws_calls  # the listing queries; nobody reads the user

    key = {"pk": f"USER#{alice.user_id}", "sk": "PROFILE"}
    _profile_table(stack).update_item(
        Key=key, UpdateExpression="SET disabled = :t", ExpressionAttributeValues={":t": True}
    )
    assert alice.get("/api/v1/job").status_code == 200  # still the kept record
    clock[0] += get_settings().principal_cache_seconds
    disabled = alice.get("/api/v1/job")
    assert disabled.status_code == 403 and disabled.json()["error"]["code"] == "ACCOUNT_DISABLED"

    _profile_table(stack).update_item(
        Key=key,
        UpdateExpression="SET disabled = :f ADD token_version :one",
        ExpressionAttributeValues={":f": False, ":one": 1},
    )
    clock[0] += get_settings().principal_cache_seconds
    revoked = alice.get("/api/v1/job")
    assert revoked.status_code == 401 and revoked.json()["error"]["code"] == "SESSION_REVOKED"


def test_a_deleted_api_key_stops_at_once_in_the_process_that_deleted_it(alice: ApiUser):
    created = alice.post("/api/v1/api-keys", json={"name": "ci"}).json()["data"]
    by_key = {"Authorization": f"Bearer {created['key']}"}
    assert alice.client.get("/api/v1/job", headers=by_key).status_code == 200
    assert alice.delete(f"/api/v1/api-keys/{created['key_id']}").status_code == 200
    assert alice.client.get("/api/v1/job", headers=by_key).status_code == 401
