"""The worker end to end over emulated AWS: sample -> clone -> job -> audio, and its failure modes."""

import io
import json
import threading

import boto3
import numpy as np
import soundfile as sf

from tests.fixtures.events import announced_job_states
from tests.fixtures.voices import processed_voice
from tests.fixtures.worker import reference_speech
from voxify.domain.jobs import JobStatus
from voxify.logic.recovery import sweep_stale_jobs
from voxify.queue import WorkMessage, WorkQueue
from voxify.repositories.jobs import JobRepository


def download(user, job_id):
    response = user.get(f"/api/v1/file/synthesis/{job_id}", params={"inline": 1})
    assert response.status_code == 200, response.text
    return response.content


def test_sample_processing_keeps_a_reference_segment(alice, worker):
    sample = alice.post(
        "/api/v1/voice/samples", files={"file": ("r.wav", reference_speech(), "audio/wav")}, data={"name": "ref"}
    ).json()["data"]
    worker.drain()
    ready = alice.get(f"/api/v1/voice/samples/{sample['sample_id']}").json()["data"]
    assert ready["status"] == "ready"
    assert 5.0 < ready["duration_seconds"] < 5.5  # basic_ref_en.wav is 5.33 s
    assert ready["reference_key"].endswith("/reference.wav")


def test_job_completes_with_asked_format_rate_and_timestamps(alice, worker):
    voice = processed_voice(alice, worker)
    text = "The quick brown fox jumps over the lazy dog. It was a bright cold day in April."
    job = alice.post(
        "/api/v1/job",
        json={
            "text_content": text,
            "voice_model_id": voice,
            "output_format": "flac",
            "sample_rate": 16000,
            "config": {"include_timestamps": True, "timestamp_granularity": "both"},
        },
    ).json()["data"]
    worker.drain()
    done = alice.get(f"/api/v1/job/{job['job_id']}").json()["data"]
    assert done["status"] == "completed", done
    assert -1.0 <= done["speaker_similarity"] <= 1.0  # the formant engine only approximates a voice
    audio, rate = sf.read(io.BytesIO(download(alice, job["job_id"])))
    assert rate == 16000
    duration = len(audio) / rate
    assert abs(duration - done["duration_seconds"]) < 0.05
    assert 3.0 < duration < 12.0  # ~16 words at conversational pace
    words = done["timestamps"]["words"]
    assert [w["word"].lower().strip(".,") for w in words][:4] == ["the", "quick", "brown", "fox"]
    starts = [w["start_time"] for w in words]
    assert starts == sorted(starts)
    assert all(0 <= w["start_time"] <= w["end_time"] <= duration + 1e-3 for w in words)
    assert done["timestamps"]["syllables"]
    assert done["engine"]["name"] == "formant" and done["engine"]["rtf"] > 0
    assert len(done["block_keys"]) == 1


def test_multi_voice_blocks_with_pauses(alice, worker):
    first = processed_voice(alice, worker)
    second = processed_voice(alice, worker)
    job = alice.post(
        "/api/v1/job",
        json={
            "voice_model_id": first,
            "output_format": "wav",
            "sample_rate": 24000,
            "blocks": [{"text": "Hello there.", "wait_after_ms": 1000}, {"text": "Hi.", "voice_model_id": second}],
        },
    ).json()["data"]
    worker.drain()
    done = alice.get(f"/api/v1/job/{job['job_id']}").json()["data"]
    assert done["status"] == "completed"
    assert len(done["block_keys"]) == 2
    blocks = [
        sf.read(
            io.BytesIO(alice.get(f"/api/v1/file/synthesis/{job['job_id']}/blocks/{i}", params={"inline": 1}).content)
        )[0]
        for i in range(2)
    ]
    combined, _ = sf.read(io.BytesIO(download(alice, job["job_id"])))
    assert len(combined) == len(blocks[0]) + 24000 + len(blocks[1])
    assert np.abs(combined[len(blocks[0]) : len(blocks[0]) + 24000]).max() == 0  # the pause is silent


def test_duplicate_delivery_produces_one_output(alice, worker, stack, emulator_endpoint):
    _, resources = stack
    voice = processed_voice(alice, worker)
    job = alice.post("/api/v1/job", json={"text_content": "Only once.", "voice_model_id": voice}).json()["data"]
    WorkQueue().send(WorkMessage(kind="synthesis", id=job["job_id"], user_id=alice.user_id))
    assert worker.drain() == 2
    states = announced_job_states(emulator_endpoint, resources.streams[0].stream_arn, job["job_id"])
    assert states == ["pending", "processing", "completed"]
    done = JobRepository().get(job["job_id"])
    assert done.status == "completed" and done.progress_version > 0


def test_cancel_mid_job_stops_between_chunks_and_leaves_no_audio(alice, worker, stack, emulator_endpoint):
    voice = processed_voice(alice, worker)
    text = " ".join(f"Sentence number {i} is here." for i in range(12))
    job = alice.post("/api/v1/job", json={"text_content": text, "voice_model_id": voice}).json()["data"]
    engine = worker.synthesis.engine
    original = engine.synthesize

    def cancel_after_first_chunk(reference, request, progress=None, should_cancel=None, on_chunk=None):
        def progress_then_cancel(fraction, message):
            alice.patch(f"/api/v1/job/{job['job_id']}", json={"status": "cancelled"})
            progress(fraction, message)

        return original(reference, request, progress_then_cancel, should_cancel, on_chunk)

    worker.synthesis.engine = type("Wrapped", (), {"synthesize": staticmethod(cancel_after_first_chunk)})()
    try:
        worker.drain()
    finally:
        worker.synthesis.engine = engine
    done = alice.get(f"/api/v1/job/{job['job_id']}").json()["data"]
    assert done["status"] == "cancelled" and done["output_key"] is None
    s3 = boto3.client("s3", endpoint_url=emulator_endpoint)
    bucket = stack[1].environment["VOXIFY_AUDIO_BUCKET"]
    assert s3.list_objects_v2(Bucket=bucket, Prefix=f"outputs/{alice.user_id}/").get("KeyCount", 0) == 0


def test_worker_killed_mid_job_is_recovered_and_finishes_once(alice, worker, engine):
    voice = processed_voice(alice, worker)
    job = alice.post("/api/v1/job", json={"text_content": "Recovered.", "voice_model_id": voice}).json()["data"]
    jobs = JobRepository()
    # a worker claims the job and dies: its lease is never renewed
    assert jobs.claim(job["job_id"], "dead-worker", lease_seconds=-1) is not None
    assert worker.drain() == 1  # its redelivered message finds a stale claim and takes over
    done = jobs.get(job["job_id"])
    assert done.status == "completed" and done.claim_owner is None
    # and with no message left at all, the sweep finds a stale claim and re-queues it
    second = alice.post("/api/v1/job", json={"text_content": "Swept.", "voice_model_id": voice}).json()["data"]
    worker.drain()
    jobs.transition(second["job_id"], JobStatus.PROCESSING, [JobStatus.COMPLETED], {"claim_expires": 0})
    assert sweep_stale_jobs() == 1
    worker.drain()
    assert jobs.get(second["job_id"]).status == "completed"


def test_unsupported_language_and_rate_fail_with_a_code(alice, worker):
    voice = processed_voice(alice, worker)
    bad_language = alice.post(
        "/api/v1/job", json={"text_content": "Hola", "voice_model_id": voice, "text_language": "xx"}
    ).json()["data"]
    worker.drain()
    failed = alice.get(f"/api/v1/job/{bad_language['job_id']}").json()["data"]
    assert failed["status"] == "failed" and failed["error_code"] == "UNSUPPORTED_LANGUAGE"
    bad_rate = alice.post(
        "/api/v1/job", json={"text_content": "x", "voice_model_id": voice, "output_format": "mp3", "sample_rate": 20000}
    )
    assert bad_rate.status_code == 400  # refused before it is queued


def test_transient_errors_retry_then_the_dlq_fails_the_job(alice, worker, stack, monkeypatch):
    voice = processed_voice(alice, worker)
    job = alice.post("/api/v1/job", json={"text_content": "Doomed.", "voice_model_id": voice}).json()["data"]

    def broken(*_, **__):
        raise RuntimeError("GPU fell off the bus")

    monkeypatch.setattr(worker.synthesis.engine, "synthesize", broken)
    monkeypatch.setattr("voxify_worker.runtime.consumer.RETRY_BACKOFF_SECONDS", 0)
    for _ in range(5):  # the jobs queue's maxReceiveCount
        worker.drain()
        assert JobRepository().get(job["job_id"]).status == "pending"
    _, resources = stack
    dlq = next(m for m in resources.mappings if m.function == "DlqFunction")
    from infra.local.event_sources import EventSourcePoller, client_as

    dlq_sqs = client_as(worker.sqs, dlq.credentials)  # Lambda polls with the function's role
    poller = EventSourcePoller(dlq, dlq_sqs, "us-east-1", "123456789012", threading.Event())
    batch = poller.gather_batch()
    assert [json.loads(m["Body"])["id"] for m in batch] == [job["job_id"]]
    poller.invoke(batch)
    failed = alice.get(f"/api/v1/job/{job['job_id']}").json()["data"]
    assert failed["status"] == "failed" and failed["error_code"] == "RETRIES_EXHAUSTED"
    assert "GPU fell off the bus" in failed["error_message"]
