"""Webhook delivery over emulated AWS: the function's own code, driven message by message."""

import ipaddress
import json
import socket
import time

import pytest

from tests.fixtures.api import reset_caches
from tests.fixtures.webhooks import Receiver, verify
from voxify.aws import client
from voxify.logic.webhooks import RetryRequest, deliver_event, retry_delivery
from voxify.settings import get_settings


def job_event(user_id: str, status: str = "completed") -> dict:
    return {
        "id": f"evt-{status}",
        "source": "voxify",
        "detail-type": "Job State Change",
        "detail": {"schema_version": "1", "job_id": "job_1", "user_id": user_id, "status": status},
    }


def queued_retries() -> list[dict]:
    sqs = client("sqs")
    url = get_settings().webhook_queue_url
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=3).get("Messages", [])
    for message in messages:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return [json.loads(m["Body"]) for m in messages]


def test_a_failed_attempt_is_retried_then_succeeds(alice, monkeypatch):
    monkeypatch.setenv("VOXIFY_WEBHOOK_RETRY_BASE_SECONDS", "1")
    reset_caches()
    receiver = Receiver(fail_first=1)
    hook = alice.post("/api/v1/webhooks", json={"url": receiver.url}).json()["data"]
    deliver_event(job_event(alice.user_id))
    [delivery] = alice.get(f"/api/v1/webhooks/{hook['webhook_id']}/deliveries").json()["data"]
    assert delivery["status"] == "pending" and delivery["attempts"] == 1 and delivery["last_status_code"] == 500
    [retry] = queued_retries()
    retry_delivery(RetryRequest.model_validate(retry["retry"]))
    [delivery] = alice.get(f"/api/v1/webhooks/{hook['webhook_id']}/deliveries").json()["data"]
    assert delivery["status"] == "succeeded" and delivery["attempts"] == 2
    assert all(verify(hook["secret"], h["Voxify-Signature"], b) for h, b in receiver.received)
    assert alice.get(f"/api/v1/webhooks/{hook['webhook_id']}").json()["data"]["consecutive_failures"] == 0


def test_other_users_events_and_unwanted_types_are_not_delivered(alice, bob):
    receiver = Receiver()
    alice.post("/api/v1/webhooks", json={"url": receiver.url, "events": ["Batch State Change"]})
    deliver_event(job_event(alice.user_id))
    deliver_event(job_event(bob.user_id))
    assert receiver.received == []


def resolving_to(address: str):
    """A name server that answers every name with `address` (no network in tests)."""
    return lambda host, port: [ipaddress.ip_address(address)]


@pytest.mark.parametrize("address", ["10.1.2.3", "169.254.169.254", "64:ff9b::a00:5", "127.0.0.1"])
def test_a_name_that_resolves_to_a_private_address_is_refused_at_delivery(alice, monkeypatch, address):
    hook = alice.post("/api/v1/webhooks", json={"url": "https://hooks.example.com/voxify"}).json()["data"]
    monkeypatch.setattr("voxify.logic.webhooks.resolve_host", resolving_to(address))
    connections = []
    monkeypatch.setattr("voxify.logic.webhooks._opener.open", lambda *a, **k: connections.append(a))
    deliver_event(job_event(alice.user_id))
    [delivery] = alice.get(f"/api/v1/webhooks/{hook['webhook_id']}/deliveries").json()["data"]
    assert delivery["last_error"].startswith("refused:") and connections == []


def test_connection_failures_are_logged_without_network_details(alice):
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    hook = alice.post("/api/v1/webhooks", json={"url": f"http://127.0.0.1:{port}/hook"}).json()["data"]
    deliver_event(job_event(alice.user_id))
    [delivery] = alice.get(f"/api/v1/webhooks/{hook['webhook_id']}/deliveries").json()["data"]
    assert delivery["last_error"] == "could not connect"


def test_an_account_holds_at_most_ten_webhooks(alice):
    for index in range(10):
        assert alice.post("/api/v1/webhooks", json={"url": f"https://example.com/h{index}"}).status_code == 201
    refused = alice.post("/api/v1/webhooks", json={"url": "https://example.com/h10"})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "CONFLICT"


def test_deliveries_that_might_outlast_the_function_wait_for_the_next_invocation(alice):
    receiver = Receiver()
    hook = alice.post("/api/v1/webhooks", json={"url": receiver.url}).json()["data"]
    almost_out_of_time = time.monotonic() + 1  # less than one attempt's timeout
    deliver_event(job_event(alice.user_id), deadline=almost_out_of_time)
    [delivery] = alice.get(f"/api/v1/webhooks/{hook['webhook_id']}/deliveries").json()["data"]
    assert receiver.received == [] and delivery["status"] == "pending" and delivery["attempts"] == 0
    [passed_on] = queued_retries()
    retry_delivery(RetryRequest.model_validate(passed_on["retry"]), deadline=time.monotonic() + 1)
    [passed_on_again] = queued_retries()  # still no time: passed on, not attempted, not lost
    assert passed_on_again == passed_on and receiver.received == []
    retry_delivery(RetryRequest.model_validate(passed_on["retry"]), deadline=time.monotonic() + 60)
    [delivery] = alice.get(f"/api/v1/webhooks/{hook['webhook_id']}/deliveries").json()["data"]
    assert delivery["status"] == "succeeded" and delivery["attempts"] == 1 and len(receiver.received) == 1
