"""Specification 002 (the /voices voice-cloning API), its requests as the document writes them."""

from tests.fixtures.api import register
from tests.fixtures.worker import reference_speech

UPLOAD = {"name": "My Voice", "description": "Test voice"}


def upload(user, consent=True, **headers):
    data = {**UPLOAD, "consent": "true"} if consent else UPLOAD
    return user.post(
        "/voices", files={"file": ("sample.wav", reference_speech(), "audio/wav")}, data=data, headers=headers
    )


def test_upload_then_synthesize_returns_audio_bytes(alice, worker):
    with worker.in_background():
        created = upload(alice)
    assert created.status_code == 201, created.text
    voice = created.json()
    assert voice["filename"] == "sample.wav" and voice["message"] == "Voice registered successfully"
    assert voice["duration"] > 3 and voice["sample_rate"] == 24_000

    shown = alice.get(f"/voices/{voice['voice_id']}")
    assert shown.status_code == 200
    assert shown.json() | {"created_at": None} == {
        "voice_id": voice["voice_id"],
        "filename": "sample.wav",
        "created_at": None,
        "duration": voice["duration"],
        "sample_rate": 24_000,
        "name": "My Voice",
        "description": "Test voice",
    }

    with worker.in_background():
        spoken = alice.post(f"/voices/{voice['voice_id']}/synthesize", json={"text": "Hello world", "format": "wav"})
    assert spoken.status_code == 200, spoken.text
    assert spoken.headers["content-type"] == "audio/wav" and spoken.content[:4] == b"RIFF"
    with worker.in_background():
        mp3 = alice.post(
            f"/voices/{voice['voice_id']}/synthesize",
            json={"text": "Hello, this is a test", "format": "mp3", "sample_rate": 22050},
        )
    assert mp3.status_code == 200 and mp3.headers["content-type"] == "audio/mpeg"


def test_consent_is_required_and_said_how(alice):
    refused = upload(alice, consent=False)
    assert refused.status_code == 400
    assert "consent=true" in refused.json()["detail"] and "X-Voice-Consent" in refused.json()["detail"]
    assert alice.get("/api/v1/voice/samples").json()["meta"]["pagination"]["total_count"] == 0


def test_health_and_documented_errors(api, alice):
    health = api.get("/health").json()
    assert health["status"] == "ok" and health["service"] == "voxify"
    assert api.post("/voices", files={"file": ("s.wav", b"RIFF", "audio/wav")}).status_code == 401
    missing = alice.post("/voices", data={**UPLOAD, "consent": "true"})
    assert missing.status_code == 400 and "file" in missing.json()["detail"]
    not_audio = alice.post("/voices", files={"file": ("s.txt", b"hello", "text/plain")}, data={"consent": "true"})
    assert not_audio.status_code == 400 and isinstance(not_audio.json()["detail"], str)
    unknown = alice.get("/voices/vox_missing")
    assert unknown.status_code == 404 and unknown.json() == {"detail": "voice clone not found"}
    assert alice.post("/voices/vox_missing/synthesize", json={"text": "Hello world"}).status_code == 404


def test_consent_header_synthesize_validation_and_other_users_voices(api, alice, worker):
    with worker.in_background():
        created = upload(alice, consent=False, **{"X-Voice-Consent": "true"})
    assert created.status_code == 201, created.text
    voice_id = created.json()["voice_id"]
    for body in ({"text": ""}, {"text": "Hello", "format": "aiff"}):
        refused = alice.post(f"/voices/{voice_id}/synthesize", json=body)
        assert refused.status_code == 400 and isinstance(refused.json()["detail"], str)
    bob = register(api, "bob@example.com")
    assert bob.get(f"/voices/{voice_id}").status_code == 404
    assert bob.post(f"/voices/{voice_id}/synthesize", json={"text": "Hello world"}).status_code == 404
