"""Voxify Studio's batches, streaming playback and verified voices in a real browser against
the whole local stack. One account with a ready voice (made over HTTP) serves every test;
each test signs in through the studio. Screenshots land in each test's temporary folder."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.e2e.test_studio import Studio, finished_download, open_studio
from tests.fixtures.api import PASSWORD
from tests.fixtures.local_stack import LocalStackProcess, aws, voice_over_http
from tests.fixtures.worker import REFERENCE_TEXT
from voxify.logic.verification import PHRASES

pytestmark = pytest.mark.e2e

EMAIL = "grace@example.com"
SENTENCES = [
    "The first sentence plays before the others are made.",
    "A second one follows while the listener is already hearing the first.",
    "The third sentence is a little longer than the two before it, to take some time.",
    "Here is the fourth.",
    "And the fifth sentence ends the paragraph.",
    "A sixth sentence makes sure there is still work to do.",
]


@pytest.fixture(scope="module")
def account(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalStackProcess, httpx.Client, str]]:
    stack = LocalStackProcess(
        tmp_path_factory.mktemp("studio-features") / "data", env={"VOXIFY_RATE_LIMIT_PER_MINUTE": "100000"}
    ).start()  # the fixture polls fast
    try:
        api, voice = voice_over_http(stack, EMAIL)
        assert api.post(f"/api/v1/voice/clones/{voice}/select").status_code == 200
        yield stack, api, voice
    finally:
        assert stack.stop() == 0, stack.output()


@pytest.fixture
def browser(account: tuple[LocalStackProcess, httpx.Client, str], tmp_path: Path) -> Iterator[tuple[Studio, Path]]:
    """The studio, signed in as the account's owner."""
    with open_studio(account[0], tmp_path) as (studio, downloads):
        studio.type("#signin-email", EMAIL)
        studio.type("#signin-password", PASSWORD)
        studio.find("#signin-email").submit()
        studio.visible('nav a[aria-current="page"]')
        yield studio, downloads


def test_a_batch_is_uploaded_followed_and_its_report_downloaded(
    browser: tuple[Studio, Path], account: tuple[LocalStackProcess, httpx.Client, str], tmp_path: Path
) -> None:
    studio, downloads = browser
    _, _, voice = account
    studio.go("batches")
    studio.visible("#batch-file")

    too_big = tmp_path / "too-big.jsonl"
    too_big.write_text(json.dumps({"text": "x" * 2000}) + "\n" * (1024 * 1024))
    studio.find("#batch-file").send_keys(str(too_big))
    studio.find("#batch-submit").click()
    studio.wait(studio.error)
    assert "size_bytes" in studio.error() and not studio.error().lstrip().startswith("{"), studio.error()

    manifest = tmp_path / "chapter.jsonl"
    rows = [
        {"text": "The first line of the batch.", "voice_id": voice, "format": "mp3", "output_name": "one"},
        {"text": ""},
        {"text": "The third line, in the active voice.", "format": "wav", "output_name": "three"},
    ]
    manifest.write_text("".join(json.dumps(row) + "\n" for row in rows))
    studio.find("#batch-file").send_keys(str(manifest))
    assert "chapter.jsonl" in studio.text("#batch-chosen")
    studio.find("#batch-submit").click()
    statuses: set[str] = set()

    def finished() -> bool:
        item = studio.find("#batch-list li[data-batch-id]")
        statuses.add(item.get_attribute("data-status") or "")
        return item.get_attribute("data-status") not in ("creating", "processing")

    studio.wait(finished, 180)
    item = studio.find("#batch-list li[data-batch-id]")
    assert item.get_attribute("data-status") == "completed_with_errors", item.text
    assert statuses & {"creating", "processing"}, statuses  # followed live, not just found finished
    assert "3 of 3 lines done: 2 completed, 0 failed, 1 refused." in item.text
    assert "chapter.jsonl" in item.text  # the name it had here, not the bucket's
    assert "done, with errors" in item.text
    assert not studio.error()
    studio.shot("10-batches", "#batches-title")

    item.find_element(By.CSS_SELECTOR, "button.batch-report").click()
    saved: Path = studio.wait(lambda: finished_download(downloads, "json"), 20)
    report = json.loads(saved.read_text())
    assert report["batch_id"] == item.get_attribute("data-batch-id")
    assert [(line["line"], line["error_code"]) for line in report["lines"]] == [
        (1, None),
        (2, "EMPTY_TEXT"),
        (3, None),
    ]


def test_the_script_plays_as_it_renders(
    browser: tuple[Studio, Path], account: tuple[LocalStackProcess, httpx.Client, str]
) -> None:
    """MP3 through MediaSource: the audio is playing while the job is still being made; then
    the whole file appears as for any job. WAV plays as PCM on Web Audio."""
    studio, _ = browser
    _, api, _ = account
    studio.go("script")
    studio.visible("#block-1-text").send_keys(" ".join(SENTENCES[:3]))
    studio.find("#add-block").click()
    studio.visible(".block:nth-of-type(2) .block-text").send_keys(" ".join(SENTENCES[3:]))
    assert Select(studio.find("#opt-format")).first_selected_option.text == "mp3"
    studio.find("#opt-stream").send_keys(" ")  # the keyboard ticks it
    assert studio.find("#opt-stream").is_selected()
    # note, from inside the page, when the stream's audio first moves and what the progress said then
    studio.driver.execute_script(
        """window.firstPlayed = null;
        const watch = setInterval(() => {
          const audio = document.querySelector('#stream-audio');
          if (audio && audio.currentTime > 0) {
            window.firstPlayed = {at: Date.now(), time: audio.currentTime,
              progress: Number(document.querySelector('#job-progress').value)};
            clearInterval(watch);
          }
        }, 20);"""
    )
    studio.find("#generate").click()
    played: dict[str, Any] = studio.wait(lambda: studio.driver.execute_script("return window.firstPlayed"), 60)
    job_id = studio.find("#stream-player").get_attribute("data-job-id")
    studio.shot("11-streaming", "#output-title")
    studio.visible("#download", 120)
    job = api.get(f"/api/v1/job/{job_id}").json()["data"]
    assert job["status"] == "completed" and job["output_format"] == "mp3"
    finished_ms = datetime.fromisoformat(job["finished_at"].replace("Z", "+00:00")).timestamp() * 1000
    assert played["at"] < finished_ms, (played, job["finished_at"])  # heard before the job was done
    assert played["progress"] < 100, played
    heard = studio.driver.execute_script("return document.querySelector('#stream-audio').currentTime")
    assert heard > played["time"]
    assert "100 %" in studio.text("#job-message") and not studio.error()

    Select(studio.find("#opt-format")).select_by_visible_text("wav")
    studio.find("#generate").click()
    studio.wait(lambda: studio.find("#stream-heard").text.endswith(" s"), 60)
    first = float(studio.text("#stream-heard").split()[0])
    studio.wait(lambda: float(studio.find("#stream-heard").text.split()[0]) > first, 10)  # Web Audio's clock moves
    studio.visible("#download", 120)
    assert "Download WAV" in studio.text("#download") and not studio.error()

    Select(studio.find("#opt-format")).select_by_visible_text("flac")
    studio.find("#generate").click()
    studio.wait(lambda: "MP3 or WAV" in studio.error())


def test_a_voice_is_verified_by_reading_the_phrase(
    browser: tuple[Studio, Path], account: tuple[LocalStackProcess, httpx.Client, str]
) -> None:
    """The fake microphone always says the f5-tts example's words, so the first challenge (a
    random phrase) fails in plain words; for the second, the test sets the challenge's phrase
    to those words in the table, as the API's own tests choose the phrase, and it passes."""
    studio, _ = browser
    stack, _, voice = account
    studio.go("voices")
    item = f'#voice-list li[data-clone-id="{voice}"]'
    studio.visible(f"{item} button.verify-voice").click()
    phrase = studio.visible(f"{item} .verify-phrase").text
    assert phrase in PHRASES
    record_phrase(studio, item)
    failed = studio.visible(f"{item} .verify-failed", 120)
    assert failed.get_attribute("data-error-code") == "PHRASE_MISMATCH"
    assert failed.text.startswith("Not verified: the recording did not say the phrase.")
    assert "We heard" in failed.text  # what the recogniser made of the recording
    studio.shot("12-verify-failed", item)

    studio.find(f"{item} button.verify-again").click()
    studio.wait(lambda: studio.find(f"{item} .verify-record").text == "Start recording")
    aws(stack, "dynamodb").update_item(
        TableName="voxify-local-data",
        Key={"pk": {"S": f"VERIFICATION#{voice}"}, "sk": {"S": "VERIFICATION"}},
        UpdateExpression="SET phrase = :phrase",
        ExpressionAttributeValues={":phrase": {"S": REFERENCE_TEXT}},
    )
    record_phrase(studio, item)
    badge = studio.visible(f'#voice-list li[data-clone-id="{voice}"][data-verified="true"] .verified-badge', 120)
    assert badge.text == "Verified"
    assert not studio.driver.find_elements(By.CSS_SELECTOR, f"{item} button.verify-voice")
    assert not studio.error()
    studio.shot("13-verified", "#voices-title")


def record_phrase(studio: Studio, item: str) -> None:
    studio.find(f"{item} .verify-record").click()
    studio.wait(lambda: float(studio.find(f"{item} meter").get_attribute("value") or 0) > 0, 10)
    time.sleep(5.4)  # the fake microphone plays the 5.3 s recording
    studio.find(f"{item} .verify-record").click()
