"""Specifications 000 and 001 (/api/v1): their example requests as written, and the fixes to
where /api/v1 used to differ from them (pitch ratio, job fields, downloads, progress events)."""

import json
import math

from tests.fixtures.api import make_admin
from tests.fixtures.voices import processed_voice
from tests.fixtures.worker import reference_speech

REGISTER = {"email": "user@example.com", "password": "SecurePass123!", "first_name": "John", "last_name": "Doe"}
JOB = {
    "text_content": "Hello world, this is a test synthesis job.",
    "text_language": "en-US",
    "output_format": "wav",
    "sample_rate": 22050,
    "speed": 1.2,
    "pitch": 1.0,
    "volume": 1.0,
    "config": {"include_timestamps": True, "timestamp_granularity": "word"},
}


def test_account_sample_and_clone_examples(api):
    assert api.post("/api/v1/auth/register", json=REGISTER).status_code == 201
    login = api.post("/api/v1/auth/login", json={"email": REGISTER["email"], "password": REGISTER["password"]})
    assert login.status_code == 200 and login.json()["success"] is True
    headers = {"Authorization": f"Bearer {login.json()['data']['access_token']}"}
    sample = api.post(
        "/api/v1/voice/samples",
        headers=headers,
        files={"file": ("voice_sample.wav", reference_speech(), "audio/wav")},
        data={"name": "My Voice Sample", "description": "High quality recording", "language": "en-US"},
    )
    assert sample.status_code == 201 and sample.json()["data"]["sample_id"]
    clone = {
        "sample_ids": [sample.json()["data"]["sample_id"]],
        "name": "My Voice Clone",
        "ref_text": "Hello, this is my reference text for voice cloning.",
        "language": "en-US",
    }
    refused = api.post("/api/v1/voice/clones", headers=headers, json=clone)  # safety: consent is required
    assert refused.status_code == 400 and refused.json()["success"] is False
    assert set(refused.json()["error"]) >= {"code", "message"}

    engines = api.get("/api/v1/voice/models", headers=headers).json()["data"]["engines"]
    f5 = {lang["code"]: lang for lang in next(e for e in engines if e["name"] == "f5tts")["languages"]}
    for code, region in (("ko", "ko-KR"), ("pt", "pt-BR"), ("ar", "ar-SA"), ("th", "th-TH"), ("vi", "vi-VN")):
        assert f5[code]["support"] == "fallback" and f5[code]["model"] == "F5TTS_v1_Base"
        assert region in f5[code]["regions"]
    assert f5["en"]["regions"] == ["en-US", "en-GB"] and f5["zh"]["regions"] == ["zh-CN", "zh-TW"]


def test_job_examples_pitch_fields_edits_and_listing(api, alice, worker):
    voice = processed_voice(alice, worker)
    created = alice.post("/api/v1/job", json={**JOB, "voice_model_id": voice})
    assert created.status_code == 201 and created.json()["message"] == "Synthesis job created successfully"
    job = created.json()["data"]
    assert (job["pitch"], job["pitch_semitones"], job["speed"]) == (1.0, 0.0, 1.2)
    assert job["text_content"] == JOB["text_content"] and (job["text_length"], job["word_count"]) == (42, 8)
    assert len(job["text_hash"]) == 64

    edited = alice.put(
        f"/api/v1/job/{job['job_id']}",
        json={"speed": 1.5, "pitch": 1.1, "volume": 0.9, "output_format": "mp3", "sample_rate": 44100},
    ).json()["data"]
    assert edited["pitch"] == 1.1 and math.isclose(edited["pitch_semitones"], 12 * math.log2(1.1), abs_tol=1e-5)
    semitones = alice.patch(f"/api/v1/job/{job['job_id']}", json={"pitch_semitones": -12}).json()["data"]
    assert (semitones["pitch"], semitones["pitch_semitones"]) == (0.5, -12)
    refused = alice.patch(f"/api/v1/job/{job['job_id']}", json={"progress": 50, "output_file_path": "/x.wav"})
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "VALIDATION_ERROR"

    listed = alice.get(
        "/api/v1/job?status=pending&limit=10&offset=0&sort_by=created_at&sort_order=desc&include_text=false"
    ).json()
    assert listed["data"][0]["text_content"] is None and listed["data"][0]["word_count"] == 8
    assert listed["meta"]["pagination"] == {"total_count": 1, "limit": 10, "offset": 0, "has_more": False}
    assert alice.get(f"/api/v1/job?user_id={alice.user_id}").json()["meta"]["pagination"]["total_count"] == 1
    admin = make_admin(api, "admin@example.com")
    assert [j["job_id"] for j in admin.get(f"/api/v1/job?user_id={alice.user_id}").json()["data"]] == [job["job_id"]]
    assert alice.get(f"/api/v1/job?user_id={admin.user_id}").status_code == 403
    deleted = alice.delete(f"/api/v1/job/{job['job_id']}").json()
    assert deleted["success"] is True and deleted["message"] == "Job deleted successfully"


def test_progress_events_for_onmessage_and_download_without_redirects(alice, worker):
    voice = processed_voice(alice, worker)
    job = alice.post("/api/v1/job", json={**JOB, "voice_model_id": voice}).json()["data"]
    worker.drain()
    with alice.client.stream(
        "GET", f"/api/v1/job/{job['job_id']}/progress", headers={**alice.headers, "Accept": "text/event-stream"}
    ) as stream:
        body = "".join(stream.iter_text())
    assert "event:" not in body
    events = [json.loads(line[6:]) for line in body.splitlines() if line.startswith("data: ")]
    assert events[-1] == {"event": "complete"}
    done = events[-2]
    assert done["status"] == "completed" and done["progress"] == 100.0 and done["message"]
    assert done["output_file_path"] == f"/api/v1/file/synthesis/{job['job_id']}" and done["duration"] > 0

    download = alice.get(f"/api/v1/file/synthesis/{job['job_id']}")  # curl ... -o result.wav, no -L
    assert download.status_code == 200 and download.content[:4] == b"RIFF"
    assert download.headers["content-type"] == "audio/wav"


def test_train_a_sample_speak_by_its_id_and_delete_it(alice, worker):
    sample = alice.post(
        "/api/v1/voice/samples",
        files={"file": ("voice_sample.wav", reference_speech(), "audio/wav")},
        data={"name": "My Voice Sample", "description": "High quality recording", "language": "en-US"},
    ).json()["data"]
    worker.drain()
    sample_id = sample["sample_id"]
    train = {"config": {"epochs": 100, "enable_timestamp_alignment": True}}
    refused = alice.post(f"/api/v1/voice/samples/{sample_id}/train", json=train)
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "CONSENT_REQUIRED"
    trained = alice.post(f"/api/v1/voice/samples/{sample_id}/train", json={**train, "consent": True})
    assert trained.status_code == 202 and trained.json()["data"]["status"] == "pending"
    assert trained.json()["data"]["training_job_id"].startswith("vox_")
    worker.drain()

    speak = {
        "text": "Hello world, this is my cloned voice!",
        "voice_id": sample_id,
        "config": {"output_format": "wav", "include_timestamps": True, "timestamp_granularity": "both"},
    }
    with worker.in_background():
        spoken = alice.post("/api/v1/tts/synthesize", json=speak)
    assert spoken.status_code == 200, spoken.text
    data = spoken.json()["data"]
    assert data["synthesis_id"] == data["job"]["job_id"] and data["sample_rate"] == 22050
    assert [w["word"] for w in data["word_timestamps"]][:2] == ["Hello", "world"]
    assert data["syllable_timestamps"] and data["job"]["text_language"] == "en-US"
    job_id = data["synthesis_id"]
    for path in (f"/api/v1/files/audio/{job_id}", f"/api/v1/file/voice-clone/{job_id}"):
        assert alice.get(path).content[:4] == b"RIFF"
    for path in (f"/api/v1/files/{job_id}/info", f"/api/v1/file/voice-clone/{job_id}/info"):
        assert alice.get(path).json()["data"]["format"] == "wav"

    queued = alice.post("/api/v1/tts/synthesize/async", json={**speak, "config": {"output_format": "mp3"}})
    assert queued.status_code == 202
    assert queued.json()["data"]["synthesis_id"] == queued.json()["data"]["job_id"]
    assert queued.json()["data"]["estimated_duration"] >= 1

    assert alice.delete(f"/api/v1/voice/samples/{sample_id}").status_code == 200
    with worker.in_background():  # the clone made of the deleted sample still speaks
        streamed = alice.get(
            "/api/v1/tts/synthesize/stream",
            params={"text": "Still here.", "voice_id": trained.json()["data"]["training_job_id"]},
        )
    assert streamed.status_code == 200 and streamed.content[:4] == b"RIFF"
