"""The `voxify` command line against the whole local stack, as a user types it."""

import json
import struct
import threading
import time

import httpx
import pytest
import soundfile as sf
from typer.testing import CliRunner
from voxify_cli.main import app

from tests.fixtures.api import PASSWORD
from tests.fixtures.local_stack import LocalStackProcess, free_port
from tests.fixtures.worker import REFERENCE_TEXT, reference_speech

pytestmark = pytest.mark.e2e

EMAIL = "cli@example.com"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    running = LocalStackProcess(tmp_path_factory.mktemp("cli") / "data").start()
    httpx.post(
        f"{running.api}/api/v1/auth/register",
        json={"email": EMAIL, "password": PASSWORD, "first_name": "C", "last_name": "L"},
    ).raise_for_status()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def voxify(stack, tmp_path, monkeypatch):
    """Run `voxify ARGS...`; returns (exit code, stdout, stderr). Its config lives in tmp_path."""
    monkeypatch.setenv("VOXIFY_CONFIG_DIR", str(tmp_path / "config"))
    runner = CliRunner()

    def run(*args, input=None):
        result = runner.invoke(app, list(args), input=input)
        return result.exit_code, result.stdout, result.stderr

    code, _, err = run("login", "--email", EMAIL, "--api-url", stack.api, input=f"{PASSWORD}\n")
    assert code == 0, err
    assert (tmp_path / "config" / "config.json").stat().st_mode & 0o777 == 0o600
    return run


def test_from_a_recording_to_speech_and_a_batch(voxify, tmp_path):
    recording = tmp_path / "me.wav"
    recording.write_bytes(reference_speech())
    code, out, err = voxify("voices", "upload", str(recording), "--name", "me", "--json")
    assert code == 0, err
    sample = json.loads(out)
    assert sample["status"] == "ready" and sample["quality"]["score"] > 0

    code, _, err = voxify("voices", "clone", sample["sample_id"], "--name", "Me", "--ref-text", REFERENCE_TEXT)
    assert code == 1 and "consent" in err.lower()  # refused, and the message says why
    code, out, err = voxify(
        "voices", "clone", sample["sample_id"], "--name", "Me", "--ref-text", REFERENCE_TEXT, "--consent", "--json"
    )
    assert code == 0, err
    voice = json.loads(out)["clone_id"]
    assert voxify("voices", "select", voice)[0] == 0

    speech = tmp_path / "hello.wav"
    code, out, err = voxify("say", "Hello from the command line.", "-o", str(speech), "--json")
    assert code == 0, err
    job = json.loads(out)
    audio, rate = sf.read(speech)
    assert job["status"] == "completed" and abs(len(audio) / rate - job["duration_seconds"]) < 0.05
    streamed = tmp_path / "streamed.wav"
    code, out, err = voxify("say", "Sent as made. A sentence at a time.", "--stream", "-o", str(streamed), "--json")
    assert code == 0, err
    wav = streamed.read_bytes()  # a streaming WAV: 16-bit PCM after a header of unknown length
    rate = struct.unpack("<I", wav[24:28])[0]
    assert wav[:4] == b"RIFF" and abs(len(wav[44:]) / 2 / rate - json.loads(out)["duration_seconds"]) < 0.05
    assert voxify("say", "Hi.", "--stream", "-o", str(tmp_path / "x.flac"))[0] == 2  # FLAC cannot be streamed
    code, out, err = voxify("detect", str(speech), "--json")
    assert code == 0 and json.loads(out)["marked"] is True, err
    assert json.loads(voxify("detect", str(recording), "--json")[1])["marked"] is False
    listed = json.loads(voxify("jobs", "list", "--json")[1])
    assert job["job_id"] in [j["job_id"] for j in listed]
    assert json.loads(voxify("jobs", "show", job["job_id"], "--json")[1])["voice_model_id"] == voice

    manifest = tmp_path / "lines.txt"
    manifest.write_text("The first line.\nThe second line.\n")
    report = tmp_path / "report.json"
    code, out, err = voxify("batch", "submit", str(manifest), "--report", str(report), "--json")
    assert code == 0, err
    assert json.loads(out)["counts"]["completed"] == 2
    assert [line["line"] for line in json.loads(report.read_text())["lines"]] == [1, 2]


def test_events_tail_prints_each_change_as_it_happens(voxify, stack):
    api = httpx.Client(base_url=stack.api, timeout=30)
    token = api.post("/api/v1/auth/login", json={"email": EMAIL, "password": PASSWORD}).json()["data"]["access_token"]
    submitted = []

    def submit_soon():
        time.sleep(1.5)  # after tail has taken its baseline
        answer = api.post(
            "/api/v1/job", json={"text_content": "Watch me."}, headers={"Authorization": f"Bearer {token}"}
        )
        submitted.append(answer.json()["data"]["job_id"])

    threading.Thread(target=submit_soon).start()
    code, out, err = voxify("events", "tail", "--for", "20", "--json")
    assert code == 0, err
    changes = [json.loads(line) for line in out.splitlines()]
    mine = [c["status"] for c in changes if c["job_id"] == submitted[0]]
    assert mine and mine[-1] == "completed"  # states shorter than a poll may be skipped


def test_failures_exit_with_codes_that_say_what_went_wrong(voxify, tmp_path, monkeypatch):
    code, _, err = voxify("say", "Hi.", "--voice", "vox_nobody", "-o", str(tmp_path / "x.wav"))
    assert code == 1 and "NOT_FOUND" in err and "Traceback" not in err
    assert voxify("say", "Hi.", "-o", str(tmp_path / "x.txt"))[0] == 2  # not an audio format
    code, out, err = voxify("jobs", "watch", "job_missing")
    assert code == 1
    monkeypatch.setenv("VOXIFY_API_URL", f"http://127.0.0.1:{free_port()}")
    code, _, err = voxify("jobs", "list")
    assert code == 4 and "did not answer" in err
