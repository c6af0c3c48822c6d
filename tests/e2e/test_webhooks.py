"""Webhooks on the whole local stack: signed deliveries to a receiver on 127.0.0.1, retries
with backoff, the delivery log, and disabling after repeated failures."""

import json

import pytest

from tests.fixtures.local_stack import LocalStackProcess, account_over_http, free_port, poll, voice_over_http
from tests.fixtures.webhooks import Receiver, verify

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    stack = LocalStackProcess(
        tmp_path_factory.mktemp("webhooks") / "data",
        env={
            "VOXIFY_WEBHOOK_RETRY_BASE_SECONDS": "1",
            "VOXIFY_WEBHOOK_DISABLE_AFTER_FAILURES": "5",
            "VOXIFY_RATE_LIMIT_PER_MINUTE": "100000",
        },
    ).start()  # the tests poll fast
    try:
        api, voice = voice_over_http(stack, "hooks@example.com")
        yield stack, api, voice
    finally:
        stack.stop()


def test_every_delivery_is_signed_and_logged(running):
    _, api, voice = running
    receiver = Receiver()
    created = api.post("/api/v1/webhooks", json={"url": receiver.url, "events": ["Job State Change"]})
    assert created.status_code == 201, created.text
    hook = created.json()["data"]
    assert (
        hook["secret"].startswith("whsec_")
        and "secret" not in api.get(f"/api/v1/webhooks/{hook['webhook_id']}").json()["data"]
    )

    job = api.post("/api/v1/job", json={"text_content": "Webhooks are listening.", "voice_model_id": voice}).json()[
        "data"
    ]
    poll(
        lambda: [e["detail"]["status"] for e in receiver.events() if e["detail"]["job_id"] == job["job_id"]],
        lambda states: "completed" in states,
        timeout=120,
    )
    received = [e["detail"] for e in receiver.events() if e["detail"]["job_id"] == job["job_id"]]
    # deliveries run concurrently and may arrive out of order; occurred_at orders them
    statuses = [d["status"] for d in sorted(received, key=lambda detail: detail["occurred_at"])]
    assert statuses == ["pending", "processing", "completed"]
    assert {e["detail-type"] for e in receiver.events()} == {"Job State Change"}
    for headers, body in receiver.received:
        assert verify(hook["secret"], headers["Voxify-Signature"], body)
        assert not verify("whsec_wrong", headers["Voxify-Signature"], body)
        assert json.loads(body)["id"] == headers["Voxify-Event-Id"]

    deliveries = poll(
        lambda: api.get(f"/api/v1/webhooks/{hook['webhook_id']}/deliveries").json()["data"],
        lambda d: len(d) >= 3 and all(x["status"] == "succeeded" for x in d),
    )
    assert all(d["attempts"] == 1 and d["last_status_code"] == 204 for d in deliveries)


def test_failed_deliveries_are_retried_with_backoff(running):
    _, api, voice = running
    receiver = Receiver(fail_first=2)
    hook = api.post("/api/v1/webhooks", json={"url": receiver.url, "events": ["Voice Clone State Change"]}).json()[
        "data"
    ]
    sample_id = api.get("/api/v1/voice/samples").json()["data"][0]["sample_id"]
    api.post(
        "/api/v1/voice/clones", json={"sample_ids": [sample_id], "name": "Again", "ref_text": "hello", "consent": True}
    ).raise_for_status()
    deliveries = poll(
        lambda: api.get(f"/api/v1/webhooks/{hook['webhook_id']}/deliveries").json()["data"],
        lambda d: len(d) >= 2 and all(x["status"] == "succeeded" for x in d),
        timeout=60,
    )
    assert all(d["attempts"] == 3 and d["last_status_code"] == 204 for d in deliveries)
    for delivery in deliveries:
        first, second, third = receiver.attempts_of(delivery["delivery_id"])
        assert second - first >= 1 and third - second >= 2  # backoff: 1 s, then 2 s
    assert all(verify(hook["secret"], h["Voxify-Signature"], b) for h, b in receiver.received)
    assert api.get(f"/api/v1/webhooks/{hook['webhook_id']}").json()["data"]["consecutive_failures"] == 0


def test_a_dead_endpoint_is_disabled_after_repeated_failures(running):
    _, api, voice = running
    dead = f"http://127.0.0.1:{free_port()}/nobody-listens"
    hook = api.post("/api/v1/webhooks", json={"url": dead}).json()["data"]
    api.post("/api/v1/job", json={"text_content": "Into the void.", "voice_model_id": voice}).raise_for_status()
    disabled = poll(
        lambda: api.get(f"/api/v1/webhooks/{hook['webhook_id']}").json()["data"],
        lambda h: h["status"] == "disabled",
        timeout=60,
    )
    assert "5 delivery attempts failed" in disabled["disabled_reason"]
    deliveries = api.get(f"/api/v1/webhooks/{hook['webhook_id']}/deliveries").json()["data"]
    assert deliveries and all(d["last_error"] for d in deliveries)


def test_webhook_urls_must_be_https_and_webhooks_are_private(running):
    stack, api, _ = running
    refused = api.post("/api/v1/webhooks", json={"url": "http://example.com/hook"})
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "VALIDATION_ERROR"
    hook = api.post("/api/v1/webhooks", json={"url": "https://example.com/hook"}).json()["data"]
    other = account_over_http(stack, "other-hooks@example.com")
    assert other.get(f"/api/v1/webhooks/{hook['webhook_id']}").status_code == 404
    assert other.delete(f"/api/v1/webhooks/{hook['webhook_id']}").status_code == 404
    assert api.delete(f"/api/v1/webhooks/{hook['webhook_id']}").status_code == 200
    assert api.get(f"/api/v1/webhooks/{hook['webhook_id']}").status_code == 404
