"""Jobs: creation rules, listing, edits, cancellation, deletion, progress, files, TTS."""

import json

import boto3

from tests.fixtures.jobs import complete
from tests.fixtures.voices import ready_clone
from voxify.domain.jobs import JobStatus
from voxify.repositories.jobs import JobRepository


def error_code(response):
    return response.json()["error"]["code"]


def queued_job_ids(endpoint, resources):
    sqs = boto3.client("sqs", endpoint_url=endpoint)
    ids = []
    while True:
        messages = sqs.receive_message(
            QueueUrl=resources.environment["VOXIFY_JOBS_QUEUE_URL"],
            MaxNumberOfMessages=10,
            VisibilityTimeout=30,
            WaitTimeSeconds=0,
        ).get("Messages", [])
        if not messages:
            return ids
        ids += [json.loads(m["Body"])["id"] for m in messages]


def test_create_job_records_and_enqueues_once(alice, stack, emulator_endpoint):
    _, resources = stack
    voice = ready_clone(alice)
    response = alice.post(
        "/api/v1/job",
        json={"text_content": "Hello there.", "voice_model_id": voice, "output_format": "mp3", "sample_rate": 22050},
    )
    assert response.status_code == 201, response.text
    job = response.json()["data"]
    assert job["status"] == "pending" and job["voice_model_id"] == voice
    assert job["blocks"] == [{"text": "Hello there.", "voice_model_id": None, "wait_after_ms": 0}]
    assert queued_job_ids(emulator_endpoint, resources) == [job["job_id"]]


def test_idempotency_key_gives_one_job(alice, stack, emulator_endpoint):
    _, resources = stack
    voice = ready_clone(alice)
    body = {"text_content": "Once only.", "voice_model_id": voice}
    first = alice.post("/api/v1/job", json=body, headers={"Idempotency-Key": "abc"}).json()["data"]
    second = alice.post("/api/v1/job", json=body, headers={"Idempotency-Key": "abc"}).json()["data"]
    assert first["job_id"] == second["job_id"]
    assert queued_job_ids(emulator_endpoint, resources) == [first["job_id"]]
    assert alice.get("/api/v1/job").json()["meta"]["pagination"]["total_count"] == 1


def test_job_validation_and_voice_rules(alice, bob):
    voice = ready_clone(alice)
    cases = [
        ({"text_content": "x", "blocks": [{"text": "y"}], "voice_model_id": voice}, 400, "VALIDATION_ERROR"),
        ({"voice_model_id": voice}, 400, "VALIDATION_ERROR"),
        ({"text_content": "x", "voice_model_id": voice, "sample_rate": 4000}, 400, "VALIDATION_ERROR"),
        ({"text_content": "x", "voice_model_id": voice, "output_format": "aiff"}, 400, "VALIDATION_ERROR"),
        ({"text_content": "x" * 20_001, "voice_model_id": voice}, 400, "VALIDATION_ERROR"),
        ({"text_content": "x"}, 400, "NO_ACTIVE_VOICE"),
        ({"text_content": "x", "voice_model_id": "vox_nope"}, 404, "NOT_FOUND"),
        ({"blocks": [{"text": "x", "voice_model_id": "vox_nope"}], "voice_model_id": voice}, 404, "NOT_FOUND"),
    ]
    for body, status, code in cases:
        response = alice.post("/api/v1/job", json=body)
        assert (response.status_code, error_code(response)) == (status, code), body
    foreign = bob.post("/api/v1/job", json={"text_content": "x", "voice_model_id": voice})
    assert foreign.status_code == 404
    assert alice.get("/api/v1/job").json()["meta"]["pagination"]["total_count"] == 0


def test_active_voice_and_multi_voice_blocks(alice):
    narrator = ready_clone(alice, "Narrator")
    guest = ready_clone(alice, "Guest")
    alice.post(f"/api/v1/voice/clones/{narrator}/select")
    job = alice.post(
        "/api/v1/job",
        json={"blocks": [{"text": "Welcome.", "wait_after_ms": 500}, {"text": "Thanks!", "voice_model_id": guest}]},
    ).json()["data"]
    assert job["voice_model_id"] == narrator
    assert [b["voice_model_id"] for b in job["blocks"]] == [None, guest]
    assert job["blocks"][0]["wait_after_ms"] == 500


def test_list_filters_sort_and_pagination(alice, bob):
    voice = ready_clone(alice)
    ids = []
    for i, text in enumerate(["alpha one", "beta two", "alpha three"]):
        ids.append(
            alice.post(
                "/api/v1/job",
                json={"text_content": text, "voice_model_id": voice, "project_id": "p1" if i < 2 else "p2"},
            ).json()["data"]["job_id"]
        )
    listed = alice.get("/api/v1/job", params={"limit": 2}).json()
    assert listed["meta"]["pagination"] == {"total_count": 3, "limit": 2, "offset": 0, "has_more": True}
    assert [j["job_id"] for j in listed["data"]] == [ids[2], ids[1]]  # newest first
    ascending = alice.get("/api/v1/job", params={"sort_order": "asc"}).json()["data"]
    assert [j["job_id"] for j in ascending] == ids
    found = alice.get("/api/v1/job", params={"text_search": "ALPHA"}).json()["data"]
    assert {j["job_id"] for j in found} == {ids[0], ids[2]}
    assert len(alice.get("/api/v1/job", params={"project_id": "p1"}).json()["data"]) == 2
    assert alice.get("/api/v1/job", params={"status": "completed"}).json()["data"] == []
    assert alice.get("/api/v1/job", params={"voice_model_id": voice}).json()["meta"]["pagination"]["total_count"] == 3
    hidden = alice.get("/api/v1/job", params={"include_text": "false"}).json()["data"]
    assert all(b["text"] is None for j in hidden for b in j["blocks"])
    assert bob.get("/api/v1/job").json()["data"] == []
    assert bob.get(f"/api/v1/job/{ids[0]}").status_code == 404
    bad_sort = alice.get("/api/v1/job", params={"sort_by": "password"})
    assert bad_sort.status_code == 400


def test_edit_only_while_pending_and_cancel(alice, bob):
    voice = ready_clone(alice)
    job_id = alice.post("/api/v1/job", json={"text_content": "first", "voice_model_id": voice}).json()["data"]["job_id"]
    edited = alice.put(f"/api/v1/job/{job_id}", json={"text_content": "second", "speed": 1.5})
    assert edited.status_code == 200
    assert edited.json()["data"]["blocks"][0]["text"] == "second" and edited.json()["data"]["speed"] == 1.5
    assert bob.put(f"/api/v1/job/{job_id}", json={"speed": 1.2}).status_code == 404
    JobRepository().transition(job_id, JobStatus.PROCESSING, [JobStatus.PENDING])
    refused = alice.put(f"/api/v1/job/{job_id}", json={"speed": 1.2})
    assert refused.status_code == 409 and error_code(refused) == "JOB_NOT_EDITABLE"
    busy = alice.delete(f"/api/v1/job/{job_id}")
    assert busy.status_code == 409 and error_code(busy) == "JOB_PROCESSING"
    cancelled = alice.patch(f"/api/v1/job/{job_id}", json={"status": "cancelled"})
    assert cancelled.status_code == 200 and cancelled.json()["data"]["status"] == "cancelled"
    assert alice.post(f"/api/v1/job/{job_id}/cancel").json()["data"]["status"] == "cancelled"
    assert alice.delete(f"/api/v1/job/{job_id}").status_code == 200
    assert alice.get(f"/api/v1/job/{job_id}").status_code == 404


def test_finished_jobs_cannot_be_cancelled(alice):
    voice = ready_clone(alice)
    job = alice.post("/api/v1/job", json={"text_content": "done", "voice_model_id": voice}).json()["data"]
    complete(job)
    response = alice.post(f"/api/v1/job/{job['job_id']}/cancel")
    assert response.status_code == 400 and error_code(response) == "INVALID_STATE"


def test_enqueue_failure_fails_the_job_and_says_503(alice, monkeypatch):
    voice = ready_clone(alice)
    monkeypatch.setenv("VOXIFY_JOBS_QUEUE_URL", "http://127.0.0.1:1/000000000000/missing")
    from tests.fixtures.api import reset_caches

    reset_caches()
    response = alice.post("/api/v1/job", json={"text_content": "lost?", "voice_model_id": voice})
    assert response.status_code == 503 and error_code(response) == "QUEUE_UNAVAILABLE"
    jobs = alice.get("/api/v1/job").json()["data"]
    assert [j["status"] for j in jobs] == ["failed"]  # never a pending job nobody will run


def test_progress_stream_ends_at_a_terminal_state_and_resumes(alice):
    voice = ready_clone(alice)
    job = alice.post("/api/v1/job", json={"text_content": "stream", "voice_model_id": voice}).json()["data"]
    complete(job)
    with alice.client.stream("GET", f"/api/v1/job/{job['job_id']}/progress", headers=alice.headers) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        body = "".join(stream.iter_text())
    events = [json.loads(block.split("data: ", 1)[1]) for block in body.split("\n\n") if "data: " in block]
    assert "event: " not in body  # unnamed events: EventSource.onmessage receives every one
    assert events[-1] == {"event": "complete"}
    done = events[-2]
    assert done["status"] == "completed" and done["progress"] == 100.0
    assert done["output_file_path"] == f"/api/v1/file/synthesis/{job['job_id']}" and done["duration"] == 1.5
    assert alice.get(f"/api/v1/job/{job['job_id']}/progress").status_code == 200
    assert alice.client.get("/api/v1/job/job_x/progress", headers=alice.headers).status_code == 404


def test_files_download_inline_info_blocks_and_delete(alice, bob):
    voice = ready_clone(alice)
    job = alice.post("/api/v1/job", json={"text_content": "file", "voice_model_id": voice}).json()["data"]
    not_ready = alice.get(f"/api/v1/file/synthesis/{job['job_id']}")
    assert not_ready.status_code == 409 and error_code(not_ready) == "OUTPUT_NOT_READY"
    complete(job, b"RIFF-audio-bytes")
    download = alice.get(f"/api/v1/file/synthesis/{job['job_id']}")  # small: the bytes, no redirect
    assert download.status_code == 200 and download.content == b"RIFF-audio-bytes"
    assert download.headers["content-disposition"].startswith("attachment")
    inline = alice.get(f"/api/v1/file/synthesis/{job['job_id']}", params={"inline": 1})
    assert inline.content == b"RIFF-audio-bytes" and inline.headers["content-type"] == "audio/wav"
    assert alice.get(f"/api/v1/file/synthesis/{job['job_id']}/blocks/0").status_code == 200
    assert alice.get(f"/api/v1/file/synthesis/{job['job_id']}/blocks/5").status_code == 404
    info = alice.get(f"/api/v1/file/synthesis/{job['job_id']}/info").json()["data"]
    assert info["size_bytes"] == len(b"RIFF-audio-bytes") and info["duration_seconds"] == 1.5
    assert bob.get(f"/api/v1/file/synthesis/{job['job_id']}").status_code == 404
    library = alice.get("/api/v1/library").json()
    assert library["meta"]["counts"] == {"sample": 1, "audio": 1}
    assert alice.get(f"/api/v1/library/audio/{job['job_id']}/download").content == b"RIFF-audio-bytes"
    assert alice.delete(f"/api/v1/file/synthesis/{job['job_id']}").status_code == 200
    assert alice.get(f"/api/v1/file/synthesis/{job['job_id']}").status_code == 409
    assert alice.get(f"/api/v1/job/{job['job_id']}").status_code == 200  # the record stays


def test_sync_tts_answers_202_when_the_audio_is_not_ready(alice, monkeypatch):
    monkeypatch.setenv("VOXIFY_SYNC_WAIT_SECONDS", "0.3")
    from tests.fixtures.api import reset_caches

    reset_caches()
    voice = ready_clone(alice)
    response = alice.post("/api/v1/tts/synthesize", json={"text_content": "later", "voice_model_id": voice})
    assert response.status_code == 202 and response.json()["data"]["status"] == "pending"
    assert response.headers["location"].startswith("/api/v1/job/job_")
    queued = alice.post("/api/v1/tts/synthesize/async", json={"text_content": "async", "voice_model_id": voice})
    assert queued.status_code == 202
    openai = alice.post("/v1/audio/speech", json={"model": "tts-1", "input": "hi", "voice": "Narrator"})
    assert openai.status_code == 504 and error_code(openai) == "SYNTHESIS_TIMEOUT"
    unknown_voice = alice.post("/v1/audio/speech", json={"input": "hi", "voice": "Nobody"})
    assert unknown_voice.status_code == 404
    via_clone = alice.post(
        f"/api/v1/voice/clones/{voice}/synthesize", json={"text_content": "hey"}, params={"wait": "false"}
    )
    assert via_clone.status_code == 202


def test_models_and_info(alice):
    models = alice.get("/api/v1/voice/models").json()["data"]
    engines = {e["name"]: e for e in models["engines"]}
    assert {"f5tts", "formant"} <= set(engines)
    levels = {lang["support"] for lang in engines["f5tts"]["languages"]}
    assert levels == {"native", "specialized", "fallback"}
    info = alice.get("/api/v1/voice/info").json()["data"]
    assert info["queue"] == {"waiting": 0, "in_flight": 0} and info["workers"] == []


def test_unknown_routes_and_methods_use_the_envelope(api):
    missing = api.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and error_code(missing) == "NOT_FOUND"
    wrong_method = api.delete("/api/v1/auth/login")
    assert wrong_method.status_code == 405 and error_code(wrong_method) == "METHOD_NOT_ALLOWED"
    malformed = api.post("/api/v1/auth/login", content=b"{not json", headers={"content-type": "application/json"})
    assert malformed.status_code == 400 and error_code(malformed) == "VALIDATION_ERROR"


def test_vanishingly_small_numbers_are_stored_as_zero_not_a_server_error(alice):
    voice = ready_clone(alice)
    created = alice.post(
        "/api/v1/job",
        json={"text_content": "tiny", "voice_model_id": voice, "pitch_semitones": 5e-324, "volume": 1.3e-264},
    )
    assert created.status_code == 201, created.text
    job = alice.get(f"/api/v1/job/{created.json()['data']['job_id']}").json()["data"]
    assert job["pitch_semitones"] == 0 and job["pitch"] == 1.0 and job["volume"] == 0
