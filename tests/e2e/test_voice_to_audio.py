"""The whole local stack, as `make up` runs it: a real voice -> clone -> job -> audio."""

import io
import json

import pytest
import soundfile as sf

from tests.fixtures.local_stack import LocalStackProcess, voice_over_http

pytestmark = pytest.mark.e2e


def test_real_voice_to_downloaded_audio(tmp_path):
    stack = LocalStackProcess(tmp_path / "data").start()
    try:
        api, voice = voice_over_http(stack, "e2e@example.com")
        text = "Voxify reads this sentence aloud in a cloned voice."
        job = api.post(
            "/api/v1/job",
            json={
                "text_content": text,
                "voice_model_id": voice,
                "output_format": "mp3",
                "sample_rate": 22050,
                "config": {"include_timestamps": True},
            },
        ).json()["data"]

        events = []
        with api.stream("GET", f"/api/v1/job/{job['job_id']}/progress", timeout=120) as stream:
            for line in stream.iter_lines():
                if line.startswith("data: "):
                    events.append(json.loads(line[6:]))
        assert events.pop() == {"event": "complete"}, events
        assert events[-1]["status"] == "completed", events
        assert [e["progress"] for e in events] == sorted(e["progress"] for e in events)

        done = api.get(f"/api/v1/job/{job['job_id']}").json()["data"]
        download = api.get(f"/api/v1/file/synthesis/{job['job_id']}")  # small: the bytes, no redirect
        assert download.status_code == 200
        audio, rate = sf.read(io.BytesIO(download.content))
        duration = len(audio) / rate
        assert rate == 22050
        assert abs(duration - done["duration_seconds"]) < 0.1
        assert 1.5 < duration < 8.0  # nine words
        words = done["timestamps"]["words"]
        assert len(words) >= 8
        assert all(a["start_time"] <= b["start_time"] for a, b in zip(words, words[1:], strict=False))
        assert words[0]["start_time"] >= 0 and words[-1]["end_time"] <= duration + 0.05
        assert done["engine"]["name"] == "vits"  # make up's default for English: the neural voice
        spoken = api.post(
            "/api/v1/tts/synthesize",
            headers={"Accept": "audio/wav"},
            json={"text_content": "Right away.", "voice_model_id": voice},
        )
        assert spoken.status_code == 200 and spoken.headers["content-type"] == "audio/wav"
        assert sf.info(io.BytesIO(spoken.content)).duration > 0.3
        as_json = api.post(
            "/api/v1/tts/synthesize",
            json={"text_content": "Again.", "voice_model_id": voice, "config": {"include_timestamps": True}},
        ).json()["data"]
        assert as_json["audio_url"].startswith("http") and as_json["duration"] > 0.2
        assert as_json["timestamps"]["words"]
        openai = api.post(
            "/v1/audio/speech",
            json={"model": "tts-1", "input": "Compatible.", "voice": "Me", "response_format": "flac"},
        )
        assert openai.status_code == 200 and sf.info(io.BytesIO(openai.content)).format == "FLAC"
        info = api.get("/api/v1/voice/info").json()["data"]
        assert info["workers"] and info["workers"][0]["state"] == "running"
    finally:
        assert stack.stop() == 0, stack.output()
