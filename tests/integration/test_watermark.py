"""Every output carries the watermark, whichever route asked for it, and anyone can check a
file for it: the worker's real handlers (as the worker's role) and the real PerTh network,
over emulated AWS."""

import json
from datetime import UTC, datetime

import boto3

from tests.fixtures.api import make_admin, reset_caches
from tests.fixtures.storage import objects
from tests.fixtures.voices import processed_voice
from tests.fixtures.worker import other_speaker_flac, reference_speech
from tests.integration.test_iam import invoke
from voxify.clock import now_iso
from voxify.domain.watermarks import DetectionRecord
from voxify.queue import WorkMessage, WorkQueue
from voxify.repositories.jobs import JobRepository
from voxify.repositories.usage import UsageRepository
from voxify.repositories.watermarks import DetectionRepository
from voxify.storage import detection_clip_key

MARK = {"scheme": "perth-implicit", "version": "1.0.1+250000"}


def detect(user, data: bytes, name: str = "clip.bin"):
    return user.post("/api/v1/watermark/detect", files={"file": (name, data, "application/octet-stream")})


def check(user, worker, data: bytes, name: str) -> dict:
    """The answer of the detect route for one file, with the worker answering meanwhile."""
    with worker.in_background():
        response = detect(user, data, name)
    assert response.status_code == 200, (name, response.text)
    return response.json()["data"]


def output(user, job_id: str, block: int | None = None) -> bytes:
    path = f"/api/v1/file/synthesis/{job_id}" + ("" if block is None else f"/blocks/{block}")
    response = user.get(path, params={"inline": 1})
    assert response.status_code == 200, response.text
    return response.content


def completed(user, job_id: str) -> dict:
    job = user.get(f"/api/v1/job/{job_id}").json()["data"]
    assert job["status"] == "completed", job
    return job


def test_the_output_of_every_route_is_marked(alice, worker, stack, emulator_endpoint):
    _, resources = stack
    voice = processed_voice(alice, worker)
    outputs: dict[str, bytes] = {}

    job = alice.post(
        "/api/v1/job",
        json={"text_content": "Marked by every route.", "voice_model_id": voice, "output_format": "mp3"},
    ).json()["data"]
    blocks = alice.post(
        "/api/v1/job",
        json={
            "voice_model_id": voice,
            "output_format": "ogg",
            "sample_rate": 16000,
            "blocks": [{"text": "First block.", "wait_after_ms": 300}, {"text": "Second block."}],
        },
    ).json()["data"]
    s3 = boto3.client("s3", endpoint_url=emulator_endpoint)
    manifest = json.dumps({"text": "A line of the drop folder.", "voice_id": voice}) + "\n"
    s3.put_object(
        Bucket=resources.environment["VOXIFY_AUDIO_BUCKET"], Key=f"dropbox/{alice.user_id}/m.jsonl", Body=manifest
    )
    assert invoke(resources, "DropfolderFunction", emulator_endpoint) == 0
    boto3.client("events", endpoint_url=emulator_endpoint).put_events(
        Entries=[
            {
                "Source": "integration.test",
                "DetailType": "Synthesis Requested",
                "EventBusName": resources.environment["VOXIFY_EVENT_BUS_NAME"],
                "Detail": json.dumps({"api_key": alice.access_token, "text": "From the bus.", "voice_id": voice}),
            }
        ]
    )
    assert invoke(resources, "IngestFunction", emulator_endpoint) == 0
    worker.drain()
    for done in (completed(alice, job["job_id"]), completed(alice, blocks["job_id"])):
        assert done["watermark"] == MARK
    outputs["job (mp3)"] = output(alice, job["job_id"])
    outputs["blocks combined (ogg, 16 kHz)"] = output(alice, blocks["job_id"])
    outputs["block 2"] = output(alice, blocks["job_id"], block=1)
    for source in ("dropfolder", "event"):
        (made,) = [j for j in JobRepository().list_for(alice.user_id) if j.source == source]
        outputs[f"{source} job"] = output(alice, completed(alice, made.job_id)["job_id"])

    with worker.in_background():
        sync = alice.post(
            "/api/v1/tts/synthesize",
            json={"text_content": "Spoken while you wait.", "voice_model_id": voice, "sample_rate": 8000},
            headers={"Accept": "audio/wav"},
        )
        openai = alice.post("/v1/audio/speech", json={"input": "Through the OpenAI route.", "voice": "Ref"})
    assert sync.status_code == 200 and openai.status_code == 200, (sync.text, openai.text)
    outputs["sync (wav, 8 kHz)"], outputs["OpenAI (mp3)"] = sync.content, openai.content

    for route, data in outputs.items():
        answer = check(alice, worker, data, route)
        assert answer["status"] == "completed" and answer["marked"], (route, answer)
        assert answer["confidence"] >= 0.9 and answer["scheme"] == MARK["scheme"], (route, answer)


def test_unmarked_recordings_are_not_marked_and_non_audio_is_refused(alice, bob, worker, stack, emulator_endpoint):
    recordings = {"basic_ref_en.wav": reference_speech()}
    recordings |= {name: other_speaker_flac(name) for name in ("town.flac", "country.flac", "main.flac")}
    for name, data in recordings.items():
        answer = check(alice, worker, data, name)
        assert answer["status"] == "completed" and not answer["marked"], (name, answer)
        assert answer["confidence"] < 0.5 and answer["duration_seconds"] > 1, (name, answer)
    assert bob.get(f"/api/v1/watermark/detections/{answer['detection_id']}").status_code == 404
    assert alice.get(f"/api/v1/watermark/detections/{answer['detection_id']}").json()["data"] == answer

    for data in (b"just some text, not audio", b"", b"RIFF\x24\x00\x00\x00WAVEfmt "):
        refused = detect(alice, data)
        assert refused.status_code == 400, refused.text
        assert refused.json()["error"]["code"] in ("UNSUPPORTED_AUDIO", "CORRUPT_AUDIO")
    _, resources = stack
    assert objects(emulator_endpoint, resources.environment["VOXIFY_AUDIO_BUCKET"], "watermarks/") == []


def test_a_slow_check_answers_202_and_can_be_polled(alice, worker, monkeypatch):
    monkeypatch.setenv("VOXIFY_DETECTION_WAIT_SECONDS", "0")
    reset_caches()
    pending = detect(alice, reference_speech())
    assert pending.status_code == 202 and pending.json()["data"]["status"] == "pending"
    worker.drain()
    done = alice.get(pending.headers["Location"]).json()["data"]
    assert done["status"] == "completed" and done["marked"] is False


def test_only_an_administrator_can_turn_marking_off_and_it_is_logged(api, alice, worker, caplog):
    admin = make_admin(api, "admin@example.com")
    voice = processed_voice(alice, worker)
    assert alice.put("/api/v1/admin/config", json={"watermark_outputs": False}).status_code == 403
    turned_off = admin.put("/api/v1/admin/config", json={"watermark_outputs": False})
    assert turned_off.status_code == 200 and turned_off.json()["data"]["watermark_outputs"] is False
    reset_caches()  # the worker shares this process's briefly cached configuration
    job = alice.post("/api/v1/job", json={"text_content": "Left unmarked.", "voice_model_id": voice}).json()["data"]
    worker.drain()
    assert completed(alice, job["job_id"])["watermark"] is None
    turned = [r for r in caplog.records if r.getMessage() == "output watermarking turned off"]
    assert [r.admin_user_id for r in turned] == [admin.user_id]
    assert any(r.getMessage().startswith("output not watermarked") for r in caplog.records)
    assert not check(alice, worker, output(alice, job["job_id"]), "unmarked.wav")["marked"]
    admin.put("/api/v1/admin/config", json={"watermark_outputs": True})


def test_a_file_the_worker_cannot_decode_is_answered_with_its_code(alice, worker, stack, emulator_endpoint):
    _, resources = stack
    bucket = resources.environment["VOXIFY_AUDIO_BUCKET"]
    key = detection_clip_key(alice.user_id, "wmk_garbage", "mp3")
    boto3.client("s3", endpoint_url=emulator_endpoint).put_object(Bucket=bucket, Key=key, Body=b"\xff\xfb" * 500)
    DetectionRepository().create(
        DetectionRecord(
            detection_id="wmk_garbage", user_id=alice.user_id, status="pending", clip_key=key, created_at=now_iso()
        )
    )
    WorkQueue().send(WorkMessage(kind="watermark", id="wmk_garbage", user_id=alice.user_id))
    worker.drain()
    failed = alice.get("/api/v1/watermark/detections/wmk_garbage").json()["data"]
    assert failed["status"] == "failed" and failed["error_code"] in ("CORRUPT_AUDIO", "UNSUPPORTED_AUDIO"), failed
    assert objects(emulator_endpoint, bucket, "watermarks/") == []


def test_a_check_leaves_nothing_behind_when_the_queue_is_down(alice, monkeypatch, stack, emulator_endpoint):
    monkeypatch.setenv("VOXIFY_UPLOADS_QUEUE_URL", "http://127.0.0.1:1/000000000000/missing")
    reset_caches()
    refused = detect(alice, reference_speech())
    assert refused.status_code == 503 and refused.json()["error"]["code"] == "QUEUE_UNAVAILABLE"
    _, resources = stack
    assert objects(emulator_endpoint, resources.environment["VOXIFY_AUDIO_BUCKET"], "watermarks/") == []
    assert UsageRepository().quota_used(alice.user_id, "detection", datetime.now(UTC).strftime("%Y-%m-%d")) == 0
