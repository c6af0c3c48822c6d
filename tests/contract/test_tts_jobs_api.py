"""Specification 003 (the TTS jobs API: /token, /tts, /status, /result), as the document writes it."""

import io
import wave

from tests.fixtures.api import PASSWORD, register
from tests.fixtures.voices import processed_voice
from tests.fixtures.worker import other_speaker_flac


def token(api, username, password=PASSWORD):
    return api.post("/token", data={"username": username, "password": password})


def bearer(api, username):
    return {"Authorization": f"Bearer {token(api, username).json()['access_token']}"}


def seconds(wav):
    with wave.open(io.BytesIO(wav)) as handle:
        return handle.getnframes() / handle.getframerate()


def test_token_health_providers_and_bad_requests(api, alice, worker):
    issued = token(api, alice.email)
    assert issued.status_code == 200 and issued.json()["token_type"] == "bearer"
    assert api.get("/health").json()["status"] == "ok"
    wrong = token(api, alice.email, "not the password 1")
    assert wrong.status_code == 401
    assert wrong.json()["error"] == {"code": "INVALID_CREDENTIALS", "message": "Incorrect username or password"}

    voice = processed_voice(alice, worker)
    headers = bearer(api, alice.email)
    assert api.get("/tts/providers").status_code == 401
    listed = api.get("/tts/providers", headers=headers).json()
    assert [p["name"] for p in listed] == ["voxify"] and listed[0]["voices"][0]["voice_id"] == voice
    assert [v["voice_id"] for v in api.get("/tts/providers/voxify", headers=headers).json()] == [voice]
    missing = api.get("/tts/providers/invalid_provider", headers=headers)
    assert missing.status_code == 404 and missing.json()["detail"] == "Provider 'invalid_provider' not found."

    block = {"text": "Hello.", "voice": voice}
    cases = [
        {"blocks": [block]},
        {"user_id": alice.user_id},
        {"user_id": alice.user_id, "blocks": []},
        {"user_id": alice.user_id, "blocks": [{**block, "text": ""}]},
        {"user_id": alice.user_id, "blocks": [{**block, "text": "x" * 1001}]},
        {"user_id": alice.user_id, "blocks": [{**block, "provider": "elevenlabs"}]},
        {"user_id": alice.user_id, "blocks": [{**block, "voice": "nobody"}]},
    ]
    for body in cases:
        refused = api.post("/tts", json=body, headers=headers)
        assert refused.status_code == 400, (body, refused.text)
        assert refused.json()["error"]["code"] == "VALIDATION_ERROR" and refused.json()["detail"]
    other = api.post("/tts", json={"user_id": "usr_someone_else", "blocks": [block]}, headers=headers)
    assert other.status_code == 403
    by_email = api.post("/tts", json={"user_id": alice.email, "blocks": [block]}, headers=headers)
    assert by_email.status_code == 202
    assert api.get("/status/job_missing", headers=headers).status_code == 404


def test_three_blocks_two_voices_and_pauses(api, alice, worker):
    first = processed_voice(alice, worker)
    second = processed_voice(alice, worker, other_speaker_flac())
    headers = bearer(api, alice.email)
    blocks = [
        {"text": "Hello there.", "voice": first, "wait_after_ms": 400},
        {"text": "General Kenobi.", "voice": "Ref", "provider": "voxify", "wait_after_ms": 300},
        {"text": "You are a bold one.", "voice": second, "wait_after_ms": 250},
    ]
    assert api.post("/tts", json={"user_id": alice.user_id, "blocks": blocks}).status_code == 401
    created = api.post("/tts", json={"user_id": alice.user_id, "blocks": blocks}, headers=headers)
    assert created.status_code == 202, created.text
    job_id = created.json()["job_id"]
    assert created.json() == {"job_id": job_id, "status": "queued"}
    assert api.get(f"/status/{job_id}", headers=headers).json() == {
        "job_id": job_id,
        "status": "queued",
        "progress": "0/3",
        "result_url": "",
    }
    early = api.get(f"/result/{job_id}", headers=headers)
    assert early.status_code == 400 and early.json()["detail"]

    worker.drain()
    status = api.get(f"/status/{job_id}", headers=headers).json()
    assert status == {
        "job_id": job_id,
        "status": "completed",
        "progress": "3/3",
        "result_url": f"/result/{job_id}/audio",
    }
    result = api.get(f"/result/{job_id}", headers=headers).json()
    assert result == {
        "job_id": job_id,
        "result_url": f"/result/{job_id}/audio",
        "block_urls": [f"/result/{job_id}/block/{i}/audio" for i in range(3)],
    }
    parts = [api.get(url, headers=headers) for url in result["block_urls"]]
    assert all(p.status_code == 200 and p.headers["content-type"] == "audio/wav" for p in parts)
    assert "attachment" in parts[0].headers["content-disposition"]
    whole = api.get(result["result_url"], headers=headers)
    assert whole.status_code == 200 and whole.content[:4] == b"RIFF"
    assert seconds(whole.content) >= sum(seconds(p.content) for p in parts) + 0.9  # every pause, the last too
    assert api.get(f"/result/{job_id}/block/3/audio", headers=headers).status_code == 404

    bob = register(api, "bob@example.com")
    for path in (f"/status/{job_id}", f"/result/{job_id}", f"/result/{job_id}/audio"):
        assert bob.get(path).status_code == 404
