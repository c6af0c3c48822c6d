"""Streaming jobs over emulated AWS, with the worker's real handlers: the chunks the worker
stores join into the whole job's audio (pauses included), and what cannot stream is refused
before a job is made. (Chunk timing and client disconnects: tests/e2e/test_streaming.py.)"""

import io

import numpy as np
import soundfile as sf

from tests.fixtures.voices import processed_voice
from voxify.logic.streams import ChunkFollower
from voxify.repositories.jobs import JobRepository


def test_a_streaming_jobs_chunks_join_into_its_whole_audio(alice, worker):
    voice = processed_voice(alice, worker)
    job = alice.post(
        "/api/v1/job",
        json={
            "voice_model_id": voice,
            "output_format": "wav",
            "sample_rate": 16000,
            "config": {"stream": True},
            "blocks": [{"text": "Hello there. How are you?", "wait_after_ms": 500}, {"text": "Fine, thanks."}],
        },
    ).json()["data"]
    worker.drain()
    record = JobRepository().get(job["job_id"])
    assert record.status == "completed"
    assert record.stream.ended and record.stream.chunks == 4  # two sentences, the pause, one sentence
    chunks, over = ChunkFollower(job["job_id"]).poll()
    assert over and len(chunks) == 4
    pause = np.frombuffer(chunks[2], dtype="<i2")
    assert len(pause) == 8000 and not pause.any()  # the block's 500 ms pause, silent as in the file
    streamed = np.frombuffer(b"".join(chunks), dtype="<i2")
    whole, rate = sf.read(
        io.BytesIO(alice.get(f"/api/v1/file/synthesis/{job['job_id']}", params={"inline": 1}).content), dtype="int16"
    )
    assert rate == 16000 and abs(len(streamed) - len(whole)) <= 3  # resampled per sentence: a sample or so


def test_what_cannot_stream_is_refused_before_any_job(alice):
    refused = [
        alice.post("/api/v1/tts/synthesize/stream", json={"text": "Hi.", "config": {"output_format": "flac"}}),
        alice.post(
            "/api/v1/tts/synthesize/stream",
            json={"text": "Hi.", "stream_format": "mp3", "config": {"sample_rate": 20000}},
        ),
        alice.get("/api/v1/tts/synthesize/stream", params={"text": "Hi.", "output_format": "flac"}),
        alice.post(
            "/v1/audio/speech", json={"input": "Hi.", "voice": "x", "response_format": "flac", "stream_format": "audio"}
        ),
    ]
    assert [r.status_code for r in refused] == [400] * 4, [r.text for r in refused]
    assert all(r.json()["error"]["code"] == "VALIDATION_ERROR" for r in refused)
    assert alice.get("/api/v1/job").json()["data"] == []
