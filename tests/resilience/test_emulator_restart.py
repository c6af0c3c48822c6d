"""The AWS emulator restarted mid-run: the stack puts its resources back and carries on.

Embedded emulator: moto's reset (what a restart does to its memory) wipes everything; the
stack recreates the template's resources and restores its last saved data, so existing
accounts, tokens and voices keep working. External emulator (AWS_ENDPOINT_URL): the server
is stopped and a new one started on the same port; the stack recreates the resources and
new work goes through. Nobody restarts the stack in either case.
"""

import subprocess
import sys
import time
import urllib.request

import pytest

from infra.local.emulator import endpoint_is_up
from tests.fixtures.aws import free_port
from tests.fixtures.local_stack import LocalStackProcess, account_over_http, poll, voice_over_http
from tests.fixtures.worker import other_speaker_flac

pytestmark = pytest.mark.e2e
SNAPSHOT_SECONDS = 10


def completed_job(api, voice: str, text: str) -> dict:
    job = api.post("/api/v1/job", json={"text_content": text, "voice_model_id": voice})
    assert job.status_code == 201, job.text
    return poll(
        lambda: api.get(f"/api/v1/job/{job.json()['data']['job_id']}").json()["data"],
        lambda j: j["status"] in ("completed", "failed"),
        timeout=90,
    )


def test_the_stack_recovers_its_data_when_the_embedded_emulator_restarts(tmp_path):
    stack = LocalStackProcess(tmp_path / "data").start()
    try:
        api, voice = voice_over_http(stack, "before@example.com")
        assert completed_job(api, voice, "Before the restart.")["status"] == "completed"
        time.sleep(SNAPSHOT_SECONDS + 2)  # a periodic save has happened since
        urllib.request.urlopen(urllib.request.Request(f"{stack.emulator}/moto-api/reset", method="POST"))

        poll(lambda: "the stack's resources are back" in stack.output(), bool, timeout=90)
        assert api.get("/api/v1/auth/profile").status_code == 200  # the same token still works
        after = completed_job(api, voice, "After the restart, the same voice speaks.")
        assert after["status"] == "completed", after
        audio = api.get(f"/api/v1/file/synthesis/{after['job_id']}", params={"inline": 1})
        assert audio.status_code == 200 and len(audio.content) > 1000
        newcomer, new_voice = voice_over_http(stack, "after@example.com", other_speaker_flac())
        assert completed_job(newcomer, new_voice, "A new account works too.")["status"] == "completed"
    finally:
        stack.stop()


def moto_process(port: int) -> subprocess.Popen:
    """An external emulator in its own process, as `moto_server` or LocalStack would run."""
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    poll(lambda: endpoint_is_up(f"http://127.0.0.1:{port}"), bool, timeout=30)
    return server


def test_the_stack_recreates_its_resources_when_an_external_emulator_restarts(tmp_path):
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    server = moto_process(port)
    stack = LocalStackProcess(
        tmp_path / "data",
        env={
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        },
    ).start()
    try:
        account_over_http(stack, "first@example.com")
        server.kill()
        server.wait()
        time.sleep(3)  # the emulator is down for a while; the stack waits
        server = moto_process(port)
        poll(lambda: "the stack's resources are back" in stack.output(), bool, timeout=90)
        api, voice = voice_over_http(stack, "second@example.com")
        assert completed_job(api, voice, "A fresh emulator, the same stack.")["status"] == "completed"
    finally:
        stack.stop()
        server.kill()
