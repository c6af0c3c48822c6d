"""Findings of the security and operations review that need no worker: each answered as a
user would see it, and each failed before its fix."""

import pytest

from tests.fixtures.api import reset_caches
from tests.fixtures.jobs import complete
from tests.fixtures.voices import ready_clone
from voxify.aws import resource
from voxify.domain.jobs import JobStatus
from voxify.errors import ErrorCode, VoxifyError
from voxify.logic.batches import batch_lines, ingest_manifest, record_job_outcome
from voxify.logic.ingest import accept_synthesis_request
from voxify.repositories.batches import BatchRepository
from voxify.repositories.jobs import JobRepository


def test_a_non_ascii_digit_in_last_event_id_starts_the_stream_from_the_beginning(alice):
    voice = ready_clone(alice)
    job = alice.post("/api/v1/job", json={"text_content": "stream", "voice_model_id": voice}).json()["data"]
    complete(job)
    headers = {**alice.headers, "Last-Event-ID": "²".encode()}  # as raw header bytes, as a client may send
    with alice.client.stream("GET", f"/api/v1/job/{job['job_id']}/progress", headers=headers) as stream:
        assert stream.status_code == 200
        assert 'data: {"event": "complete"}' in "".join(stream.iter_text())


def test_a_still_running_answer_does_not_reveal_which_worker_holds_the_job(alice):
    voice = ready_clone(alice)
    queued = alice.post(
        f"/api/v1/voice/clones/{voice}/synthesize", json={"text_content": "hey"}, params={"wait": "false"}
    )
    assert queued.status_code == 202
    job_id = queued.json()["data"]["job_id"]
    JobRepository().claim(job_id, "host-1-4242-abc", lease_seconds=60)
    for answer in (alice.get(f"/api/v1/job/{job_id}"), alice.get("/api/v1/job")):
        assert "host-1-4242" not in answer.text and "claim_owner" not in answer.text


def test_an_inbound_request_naming_a_bare_user_id_needs_a_trusted_source(alice, monkeypatch):
    voice = ready_clone(alice)
    event = {
        "id": "ev-7",
        "source": "partner.app",
        "detail-type": "Synthesis Requested",
        "detail": {"user_id": alice.user_id, "text": "Hi.", "voice_id": voice},
    }
    with pytest.raises(VoxifyError) as refused:
        accept_synthesis_request(event)
    assert refused.value.code == ErrorCode.UNAUTHORIZED
    monkeypatch.setenv("VOXIFY_TRUSTED_EVENT_SOURCES", '["back.office"]')
    reset_caches()
    assert accept_synthesis_request({**event, "source": "back.office"}).user_id == alice.user_id


def test_a_forged_job_end_event_counts_nothing_in_a_batch(alice):
    voice = ready_clone(alice)
    assert alice.post(f"/api/v1/voice/clones/{voice}/select").status_code == 200
    batch = ingest_manifest(f"dropbox/{alice.user_id}/forged.txt", '"e"', b"Only line.\n")
    [line] = batch_lines(batch)
    record_job_outcome(batch.batch_id, line.job_id, JobStatus.COMPLETED)  # the job is still pending
    assert BatchRepository().get(batch.batch_id).counts().completed == 0


def test_an_idempotent_webhook_replay_does_not_reveal_or_keep_its_secret(alice, stack):
    _, resources = stack
    headers = {"Idempotency-Key": "hook-once"}
    body = {"url": "https://example.com/hooks/voxify"}
    first = alice.post("/api/v1/webhooks", headers=headers, json=body)
    assert first.status_code == 201
    created = first.json()["data"]
    replay = alice.post("/api/v1/webhooks", headers=headers, json=body)
    assert replay.status_code == 409 and replay.json()["error"]["code"] == "SECRET_ALREADY_SHOWN"
    assert replay.json()["error"]["details"] == {"webhook_id": created["webhook_id"]}
    table = resource("dynamodb").Table(resources.environment["VOXIFY_IDEMPOTENCY_TABLE_NAME"])
    stored = str(table.scan()["Items"])
    assert created["webhook_id"] in stored and created["secret"] not in stored
