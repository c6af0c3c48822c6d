"""Audio streams through the whole local stack (`make up`): the first sentence's audio arrives
while later sentences are still being made, the stream is the whole text, as loud as the
job's file and marked from its first piece on, and a client that goes away cancels its job."""

from __future__ import annotations

import base64
import io
import json
import struct
from collections.abc import Iterator

import av
import httpx
import numpy as np
import pytest
import soundfile as sf

from tests.fixtures.local_stack import LocalStackProcess, aws, poll, voice_over_http
from voxify_worker.audio import loudness
from voxify_worker.audio.watermark import Watermarker

pytestmark = pytest.mark.e2e

SENTENCES = [
    "The first sentence leaves the worker before the others are made.",
    "A second one follows while the listener is already hearing the first.",
    "The third sentence is a little longer than the two before it, to take some time.",
    "Here is the fourth.",
    "And the fifth sentence ends the paragraph.",
    "A sixth sentence makes sure there is still work to do.",
]
TEXT = " ".join(SENTENCES)
WAV_HEADER_BYTES = 44


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalStackProcess, httpx.Client, str]]:
    stack = LocalStackProcess(tmp_path_factory.mktemp("stream") / "data").start()
    try:
        api, voice = voice_over_http(stack, "stream@example.com")
        yield stack, api, voice
    finally:
        assert stack.stop() == 0, stack.output()


def _job(api: httpx.Client, job_id: str) -> dict:
    return api.get(f"/api/v1/job/{job_id}").json()["data"]


BUCKET = "voxify-local-audio-123456789012"


def _chunk_keys(stack: LocalStackProcess, job: dict) -> list[str]:
    listed = aws(stack, "s3").list_objects_v2(
        Bucket=BUCKET, Prefix=f"outputs/{job['user_id']}/{job['job_id']}/attempt-1/stream/"
    )
    return [item["Key"] for item in listed.get("Contents", [])]


def _chunks_stored(stack: LocalStackProcess, job: dict) -> int:
    return len(_chunk_keys(stack, job))


def _expiry_days(stack: LocalStackProcess, key: str) -> int | None:
    """After how many days the bucket's lifecycle rules delete `key`, going by its tags."""
    s3 = aws(stack, "s3")
    tags = {(tag["Key"], tag["Value"]) for tag in s3.get_object_tagging(Bucket=BUCKET, Key=key)["TagSet"]}
    rules = s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    days = [
        rule["Expiration"]["Days"]
        for rule in rules
        if rule["Status"] == "Enabled"
        and "Expiration" in rule
        and key.startswith(rule["Filter"].get("Prefix", ""))
        and ("Tag" not in rule["Filter"] or (rule["Filter"]["Tag"]["Key"], rule["Filter"]["Tag"]["Value"]) in tags)
    ]
    return min(days, default=None)


def _pcm(body: bytes) -> np.ndarray:
    return np.frombuffer(body, dtype="<i2").astype(np.float32) / 32768


def _envelope(samples: np.ndarray, rate: int) -> np.ndarray:
    frame = rate // 50
    usable = samples[: len(samples) // frame * frame].reshape(-1, frame)
    return np.sqrt(np.mean(usable**2, axis=1))


def test_the_first_sentence_streams_before_the_last_is_made_and_the_stream_is_the_whole_text(local):
    stack, api, voice = local
    body = {"text": TEXT, "voice_id": voice, "config": {"output_format": "wav", "sample_rate": 22050}}
    with api.stream("POST", "/api/v1/tts/synthesize/stream", json=body, timeout=120) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"] == "audio/wav"
        job_id = response.headers["x-job-id"]
        received = bytearray()
        parts = response.iter_bytes()
        while len(received) <= WAV_HEADER_BYTES:  # the header goes out at once; then the first sentence
            received += next(parts)
        running = _job(api, job_id)
        assert running["status"] == "processing"  # the job is still making later sentences
        assert _chunks_stored(stack, running) < len(SENTENCES)
        for part in parts:
            received += part

    header = bytes(received[:WAV_HEADER_BYTES])
    assert header[:4] == b"RIFF" and header[8:16] == b"WAVEfmt " and header[36:40] == b"data"
    assert struct.unpack("<I", header[40:44])[0] == 0xFFFFFFFF  # a streaming header: length unknown
    assert struct.unpack("<I", header[24:28])[0] == 22050
    streamed = _pcm(bytes(received[WAV_HEADER_BYTES:]))

    done = poll(lambda: _job(api, job_id), lambda j: j["status"] == "completed", timeout=60)
    whole, rate = sf.read(io.BytesIO(api.get(f"/api/v1/file/synthesis/{job_id}").content), dtype="float32")
    assert rate == 22050
    assert abs(len(streamed) / rate - done["duration_seconds"]) < 0.05  # every sentence, no more
    # the same speech as the job's whole file, as loud (the stream follows the file's level)
    assert np.corrcoef(_envelope(streamed, rate), _envelope(whole, rate))[0, 1] > 0.9
    assert abs(loudness(streamed, rate) - loudness(whole, rate)) < 0.5  # LU
    # every byte carries the mark: the first piece (a short head of the first sentence) on its
    # own, and the stream as a whole
    chunks = _chunk_keys(stack, done)
    first = _pcm(aws(stack, "s3").get_object(Bucket=BUCKET, Key=chunks[0])["Body"].read())
    assert len(first) / rate < 1.0
    marker = Watermarker()
    assert marker.detect(first, rate).confidence >= 0.95
    assert marker.detect(streamed, rate).confidence >= 0.95
    # the pieces outlive the stream by a day at most (the bucket's lifecycle); the file stays
    assert chunks and all(_expiry_days(stack, key) == 1 for key in chunks)
    assert _expiry_days(stack, done["output_key"]) is None


def test_a_client_that_goes_away_cancels_its_job(local):
    stack, api, voice = local
    with api.stream(
        "GET", "/api/v1/tts/synthesize/stream", params={"text": f"{TEXT} {TEXT}", "voice_id": voice}, timeout=120
    ) as response:
        assert response.status_code == 200
        job_id = response.headers["x-job-id"]
        next(response.iter_bytes())
    # leaving the block closed the connection before the stream ended
    cancelled = poll(lambda: _job(api, job_id), lambda j: j["status"] != "processing", timeout=60, interval=0.2)
    assert cancelled["status"] == "cancelled"
    assert cancelled["output_key"] is None
    # the worker stops at its next sentence and discards what it had written
    poll(lambda: _chunks_stored(stack, cancelled), lambda count: count == 0, timeout=60)


def test_openai_speech_streams_mp3_frames_and_sse_deltas(local):
    _, api, voice = local
    short = " ".join(SENTENCES[:2])
    with api.stream(
        "POST",
        "/v1/audio/speech",
        json={"input": short, "voice": voice, "response_format": "mp3", "stream_format": "audio"},
        timeout=120,
    ) as response:
        assert response.status_code == 200 and response.headers["content-type"] == "audio/mpeg"
        mp3 = response.read()
    with av.open(io.BytesIO(mp3)) as container:
        seconds = sum(frame.samples / frame.sample_rate for frame in container.decode(audio=0))
    assert 3.0 < seconds < 12.0

    events = []
    with api.stream(
        "POST",
        "/v1/audio/speech",
        json={"input": short, "voice": voice, "response_format": "pcm", "stream_format": "sse"},
        timeout=120,
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [json.loads(line[6:]) for line in response.iter_lines() if line.startswith("data: ")]
    assert events[-1] == {"type": "speech.audio.done"}
    deltas = [base64.b64decode(e["audio"]) for e in events[:-1] if e["type"] == "speech.audio.delta"]
    assert len(deltas) >= 2  # one per sentence
    pcm = np.frombuffer(b"".join(deltas), dtype="<i2")
    assert 3.0 < len(pcm) / 24_000 < 12.0
