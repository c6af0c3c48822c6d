"""The whole local stack, as `make up` runs it: a real voice -> clone -> job -> audio."""

import io
import json
import time

import httpx
import pytest
import soundfile as sf

from tests.fixtures.api import PASSWORD
from tests.fixtures.local_stack import LocalStackProcess
from tests.fixtures.worker import REFERENCE_TEXT, reference_speech

pytestmark = pytest.mark.e2e


def poll(fetch, done, timeout=120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fetch()
        if done(value):
            return value
        time.sleep(0.5)
    raise TimeoutError(value)


def test_real_voice_to_downloaded_audio(tmp_path):
    stack = LocalStackProcess(tmp_path / "data").start()
    try:
        api = httpx.Client(base_url=stack.api, timeout=30)
        api.post("/api/v1/auth/register", json={"email": "e2e@example.com", "password": PASSWORD,
                                                "first_name": "E", "last_name": "E"}).raise_for_status()
        token = api.post("/api/v1/auth/login", json={"email": "e2e@example.com", "password": PASSWORD}
                         ).json()["data"]["access_token"]
        api.headers["Authorization"] = f"Bearer {token}"

        sample = api.post("/api/v1/voice/samples", files={"file": ("me.wav", reference_speech(), "audio/wav")},
                          data={"name": "me"}).json()["data"]
        poll(lambda: api.get(f"/api/v1/voice/samples/{sample['sample_id']}").json()["data"]["status"],
             lambda status: status in ("ready", "rejected"))
        clone = api.post("/api/v1/voice/clones", json={"sample_ids": [sample["sample_id"]], "name": "Me",
                                                      "ref_text": REFERENCE_TEXT, "consent": True}).json()["data"]
        text = "Voxify reads this sentence aloud in a cloned voice."
        job = api.post("/api/v1/job", json={
            "text_content": text, "voice_model_id": clone["clone_id"], "output_format": "mp3",
            "sample_rate": 22050, "config": {"include_timestamps": True}}).json()["data"]

        events = []
        with api.stream("GET", f"/api/v1/job/{job['job_id']}/progress", timeout=120) as stream:
            for line in stream.iter_lines():
                if line.startswith("data: "):
                    events.append(json.loads(line[6:]))
        assert events[-1]["status"] == "completed", events
        assert [e["progress"] for e in events] == sorted(e["progress"] for e in events)

        done = api.get(f"/api/v1/job/{job['job_id']}").json()["data"]
        redirect = api.get(f"/api/v1/file/synthesis/{job['job_id']}")
        assert redirect.status_code == 302
        audio, rate = sf.read(io.BytesIO(httpx.get(redirect.headers["location"]).content))
        duration = len(audio) / rate
        assert rate == 22050
        assert abs(duration - done["duration_seconds"]) < 0.1
        assert 1.5 < duration < 8.0  # nine words
        words = done["timestamps"]["words"]
        assert len(words) >= 8
        assert all(a["start_time"] <= b["start_time"] for a, b in zip(words, words[1:]))
        assert 0 <= words[0]["start_time"] and words[-1]["end_time"] <= duration + 0.05
        assert done["engine"]["name"] == "formant"
        info = api.get("/api/v1/voice/info").json()["data"]
        assert info["workers"] and info["workers"][0]["state"] == "running"
    finally:
        assert stack.stop() == 0, stack.output()
