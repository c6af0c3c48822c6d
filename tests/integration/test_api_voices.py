"""Voice samples and clones: uploads sniffed by content, ownership, consent."""

import base64
import json

import boto3
import httpx

from tests.fixtures.api import wav_bytes
from tests.fixtures.storage import objects
from voxify.domain.voices import CloneStatus
from voxify.repositories.voices import CloneRepository, SampleRepository


def error_code(response):
    return response.json()["error"]["code"]


def upload(user, data, name="sample", filename="voice.wav", **headers):
    return user.post(
        "/api/v1/voice/samples",
        files={"file": (filename, data, "audio/wav")},
        data={"name": name, "language": "en"},
        headers=headers,
    )


def make_ready(sample_id):
    SampleRepository().update(
        sample_id, {"status": "ready", "duration_seconds": 2.0, "normalized_key": "samples/x/normalized.wav"}
    )


def test_upload_stores_audio_and_queues_processing(alice, stack, emulator_endpoint):
    _, resources = stack
    response = upload(alice, wav_bytes(), filename="whatever.bin")
    assert response.status_code == 201, response.text
    sample = response.json()["data"]
    assert sample["status"] == "uploaded" and sample["format"] == "wav"
    keys = objects(emulator_endpoint, resources.environment["VOXIFY_AUDIO_BUCKET"], "samples/")
    assert keys == [f"samples/{alice.user_id}/{sample['sample_id']}/original.wav"]
    sqs = boto3.client("sqs", endpoint_url=emulator_endpoint)
    messages = sqs.receive_message(QueueUrl=resources.environment["VOXIFY_UPLOADS_QUEUE_URL"], MaxNumberOfMessages=10)[
        "Messages"
    ]
    assert any(sample["sample_id"] in m["Body"] for m in messages)


def test_non_audio_is_refused_and_nothing_is_written(alice, stack, emulator_endpoint):
    _, resources = stack
    text = upload(alice, b"this is plain text, not audio at all", filename="voice.wav")
    assert text.status_code == 400 and error_code(text) == "UNSUPPORTED_AUDIO"
    empty = upload(alice, b"")
    assert empty.status_code == 400
    assert objects(emulator_endpoint, resources.environment["VOXIFY_AUDIO_BUCKET"], "samples/") == []
    assert alice.get("/api/v1/voice/samples").json()["meta"]["pagination"]["total_count"] == 0


def test_oversize_inline_upload_is_413(alice, monkeypatch):
    monkeypatch.setenv("VOXIFY_MAX_INLINE_UPLOAD_BYTES", "1000")
    from tests.fixtures.api import reset_caches

    reset_caches()
    response = upload(alice, wav_bytes())
    assert response.status_code == 413 and error_code(response) == "PAYLOAD_TOO_LARGE"


def test_presigned_upload_accepts_exactly_the_announced_size(alice, stack):
    data = wav_bytes(1.5)
    response = alice.post("/api/v1/voice/samples/uploads", json={"name": "big", "size_bytes": len(data)})
    assert response.status_code == 201
    body = response.json()["data"]
    assert body["sample"]["status"] == "uploading"
    assert body["sample"]["original_key"] == f"uploads/{alice.user_id}/{body['sample']['sample_id']}"
    upload_form = body["upload"]
    policy = json.loads(base64.b64decode(upload_form["fields"]["policy"]))
    assert ["content-length-range", len(data), len(data)] in policy["conditions"]
    posted = httpx.post(upload_form["url"], data=upload_form["fields"], files={"file": ("x", data)}, timeout=10)
    assert posted.status_code in (200, 204)
    too_big = alice.post("/api/v1/voice/samples/uploads", json={"name": "huge", "size_bytes": 51 * 2**20})
    assert too_big.status_code == 413


def test_samples_list_filter_paginate_and_ownership(alice, bob):
    ids = [upload(alice, wav_bytes(), name=f"s{i}").json()["data"]["sample_id"] for i in range(3)]
    make_ready(ids[0])
    page = alice.get("/api/v1/voice/samples", params={"limit": 2}).json()
    assert len(page["data"]) == 2 and page["meta"]["pagination"] == {
        "total_count": 3,
        "limit": 2,
        "offset": 0,
        "has_more": True,
    }
    ready = alice.get("/api/v1/voice/samples", params={"status": "ready"}).json()["data"]
    assert [s["sample_id"] for s in ready] == [ids[0]]
    assert bob.get(f"/api/v1/voice/samples/{ids[0]}").status_code == 404
    assert bob.delete(f"/api/v1/voice/samples/{ids[0]}").status_code == 404
    assert bob.post(f"/api/v1/voice/samples/{ids[0]}/process").status_code == 404
    assert alice.get(f"/api/v1/voice/samples/{ids[0]}").json()["data"]["name"] == "s0"
    assert alice.post(f"/api/v1/voice/samples/{ids[1]}/process").status_code == 202


def test_delete_sample_removes_its_audio(alice, stack, emulator_endpoint):
    _, resources = stack
    sample_id = upload(alice, wav_bytes()).json()["data"]["sample_id"]
    assert alice.delete(f"/api/v1/voice/samples/{sample_id}").status_code == 200
    assert objects(emulator_endpoint, resources.environment["VOXIFY_AUDIO_BUCKET"], "samples/") == []
    assert alice.get(f"/api/v1/voice/samples/{sample_id}").status_code == 404


def test_clone_needs_consent_and_ready_owned_samples(alice, bob):
    sample_id = upload(alice, wav_bytes()).json()["data"]["sample_id"]
    body = {"sample_ids": [sample_id], "name": "Narrator", "ref_text": "hello there", "consent": True}
    not_ready = alice.post("/api/v1/voice/clones", json=body)
    assert not_ready.status_code == 400 and error_code(not_ready) == "SAMPLE_NOT_READY"
    make_ready(sample_id)
    no_consent = alice.post("/api/v1/voice/clones", json={**body, "consent": False})
    assert no_consent.status_code == 400 and error_code(no_consent) == "CONSENT_REQUIRED"
    foreign = bob.post("/api/v1/voice/clones", json=body)
    assert foreign.status_code == 404
    created = alice.post("/api/v1/voice/clones", json=body, headers={"User-Agent": "pytest-agent"})
    assert created.status_code == 201
    clone = created.json()["data"]
    assert clone["status"] == "processing"  # until the worker has embedded and checked it
    processing = alice.post(f"/api/v1/voice/clones/{clone['clone_id']}/select")
    assert processing.status_code == 400 and error_code(processing) == "VOICE_NOT_READY"
    CloneRepository().set_status(clone["clone_id"], CloneStatus.READY)
    assert clone["consent"]["attested_by"] == alice.user_id and clone["consent"]["user_agent"] == "pytest-agent"
    assert clone["consent"]["attested_at"]
    assert bob.get(f"/api/v1/voice/clones/{clone['clone_id']}").status_code == 404
    assert bob.post(f"/api/v1/voice/clones/{clone['clone_id']}/select").status_code == 404
    assert alice.post(f"/api/v1/voice/clones/{clone['clone_id']}/select").status_code == 200
    assert alice.get("/api/v1/auth/profile").json()["data"]["active_voice_id"] == clone["clone_id"]
    assert alice.get("/api/v1/voice/clones").json()["meta"]["pagination"]["total_count"] == 1
    assert alice.delete(f"/api/v1/voice/clones/{clone['clone_id']}").status_code == 200
    assert alice.get("/api/v1/auth/profile").json()["data"]["active_voice_id"] is None


def test_idempotent_clone_creation(alice):
    sample_id = upload(alice, wav_bytes()).json()["data"]["sample_id"]
    make_ready(sample_id)
    body = {"sample_ids": [sample_id], "name": "Once", "ref_text": "hi", "consent": True}
    first = alice.post("/api/v1/voice/clones", json=body, headers={"Idempotency-Key": "k-1"})
    second = alice.post("/api/v1/voice/clones", json=body, headers={"Idempotency-Key": "k-1"})
    assert first.json()["data"]["clone_id"] == second.json()["data"]["clone_id"]
    assert second.headers["Idempotent-Replayed"] == "true"
    other = alice.post("/api/v1/voice/clones", json={**body, "name": "Twice"}, headers={"Idempotency-Key": "k-1"})
    assert other.status_code == 422 and error_code(other) == "IDEMPOTENCY_KEY_REUSED"
    assert alice.get("/api/v1/voice/clones").json()["meta"]["pagination"]["total_count"] == 1


def test_daily_sample_quota(alice, monkeypatch):
    monkeypatch.setenv("VOXIFY_DAILY_SAMPLE_QUOTA", "2")
    from tests.fixtures.api import reset_caches

    reset_caches()
    assert upload(alice, wav_bytes()).status_code == 201
    assert upload(alice, b"not audio").status_code == 400  # refunded: a refused upload costs nothing
    assert upload(alice, wav_bytes()).status_code == 201
    third = upload(alice, wav_bytes())
    assert third.status_code == 429 and error_code(third) == "QUOTA_EXCEEDED"
    assert "Retry-After" in third.headers


def test_library_lists_downloads_and_deletes_samples(alice, bob):
    sample_id = upload(alice, wav_bytes(), name="greeting").json()["data"]["sample_id"]
    listed = alice.get("/api/v1/library", params={"type": "sample", "search": "GREET"}).json()
    assert [e["id"] for e in listed["data"]] == [sample_id]
    assert listed["meta"]["counts"] == {"sample": 1, "audio": 0}
    assert alice.get(f"/api/v1/library/sample/{sample_id}/download").status_code == 200
    assert bob.get(f"/api/v1/library/sample/{sample_id}/download").status_code == 404
    assert bob.delete(f"/api/v1/library/sample/{sample_id}").status_code == 404
    assert alice.delete(f"/api/v1/library/sample/{sample_id}").status_code == 200
    assert alice.get("/api/v1/library").json()["data"] == []
    assert alice.get("/api/v1/library/video/x/download").status_code == 400
