"""The README's walk-throughs run as written against the whole local stack (`make up`): the
curl one, the administrator's and the command line's, in order, in one shell, as a reader
types them. Only the stack's addresses (the README's are `make up`'s fixed ports) and the
path of the project's `.venv` are substituted; the shell stops at the first failing command."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import soundfile as sf

from tests.fixtures.local_stack import ROOT, LocalStackProcess
from tests.fixtures.worker import reference_speech

pytestmark = pytest.mark.e2e

README = ROOT / "README.md"
SECTIONS = ("Walk-through with curl", "Command line")
EMAIL, README_PASSWORD = "ada@example.com", "correct horse 42 battery"  # whom the walk-through registers


def shell_blocks(section: str) -> list[str]:
    """The ```sh blocks of a `## section` of the README, in order."""
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n## {section}\n")
    end = text.find("\n## ", start + 1)
    return re.findall(r"```sh\n(.*?)```", text[start : end if end > 0 else None], flags=re.DOTALL)


def as_run_here(script: str, stack: LocalStackProcess) -> str:
    script = script.replace("http://127.0.0.1:8000", stack.api).replace("http://127.0.0.1:4566", stack.emulator)
    return re.sub(r"(\$PWD/)?\.venv/", f"{ROOT}/.venv/", script)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStackProcess]:
    running = LocalStackProcess(tmp_path_factory.mktemp("readme") / "data").start()
    try:
        yield running
    finally:
        assert running.stop() == 0, running.output()


def test_the_readme_walk_throughs_run_as_written(stack: LocalStackProcess, tmp_path: Path) -> None:
    blocks = [block for section in SECTIONS for block in shell_blocks(section)]
    assert len(blocks) == 3  # the curl walk-through, granting an administrator, the command line
    # the verification step asks the reader to record the phrase; this reader sends the
    # walk-through's recording instead, which does not say it (the check fails, as it should)
    (tmp_path / "phrase.wav").write_bytes(reference_speech())
    script = tmp_path / "walk-through.sh"
    script.write_text("set -euo pipefail\n" + "\n".join(as_run_here(block, stack) for block in blocks))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "VOXIFY_"))}
    env["VOXIFY_CONFIG_DIR"] = str(tmp_path / "config")  # the CLI's session, kept out of $HOME
    run = subprocess.run(
        ["bash", str(script)],
        cwd=tmp_path,
        env=env,
        input=f"{README_PASSWORD}\n",  # `voxify login` prompts for it
        capture_output=True,
        text=True,
        timeout=900,
    )
    out = run.stdout
    assert run.returncode == 0, f"{out}\n{run.stderr}"

    lines = out.splitlines()
    assert re.search(r'"score": \d+', out)  # the sample's quality
    assert "ready" in lines  # the clone
    assert 'data: {"event": "complete"}' in lines  # the progress stream ran to its end
    assert "true" in lines  # hello.mp3 carries the watermark
    # the recording does not say the phrase: the check fails and says why
    assert '{"status":"failed","error_code":"PHRASE_MISMATCH"}' in lines
    login = httpx.post(f"{stack.api}/api/v1/auth/login", json={"email": EMAIL, "password": README_PASSWORD})
    profile = httpx.get(
        f"{stack.api}/api/v1/auth/profile", headers={"Authorization": f"Bearer {login.json()['data']['access_token']}"}
    )
    assert profile.json()["data"]["role"] == "admin"  # granted by the operator's command

    audio, rate = sf.read(tmp_path / "hello.mp3")  # the command line's `say`
    assert len(audio) / rate > 0.5
    assert (tmp_path / "streamed.wav").read_bytes()[:4] == b"RIFF"
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["status"] == "completed"
    assert "perth-implicit" in out and "│ true" in out  # `voxify detect hello.mp3`
