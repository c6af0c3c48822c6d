"""Voxify Studio in a real browser against the whole local stack: sign up, record and
upload samples, make a voice and find voices like it, generate a two-block script, play it
with its waveform and words highlighted, download it, check the download for the watermark,
delete it from the library, make and delete an API key and a webhook, sign out and in.
Screenshots of each page land in the test's temporary folder (printed on failure)."""

from __future__ import annotations

import importlib.resources
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from selenium.common.exceptions import (
    NoAlertPresentException,
    NoSuchElementException,
    StaleElementReferenceException,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.fixtures.api import PASSWORD
from tests.fixtures.browser import PHONE_WIDTH, chromium
from tests.fixtures.local_stack import LocalStackProcess, account_over_http, aws, clone_over_http
from tests.fixtures.worker import REFERENCE_TEXT

pytestmark = pytest.mark.e2e

RECORDING = Path(str(importlib.resources.files("f5_tts") / "infer/examples/basic/basic_ref_en.wav"))
BLOCKS = ["Welcome to the studio.", "This second block follows a short pause."]


class Studio:
    """The browser on the studio, with the few moves the journey repeats."""

    def __init__(self, driver: Any, shots: Path, stack: LocalStackProcess) -> None:
        self.driver = driver
        self.shots = shots
        self.stack = stack

    def find(self, css: str) -> WebElement:
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def text(self, css: str) -> str:
        """The element's text, read again if the page re-rendered it between finding and reading."""
        text: str = self.wait(lambda: (self.find(css).text,))[0]
        return text

    def wait(self, condition: Callable[[], Any], timeout: float = 60) -> Any:
        # pages re-render their lists as things change: an element found a moment ago may be gone
        ignored = (StaleElementReferenceException, NoSuchElementException, NoAlertPresentException)
        return WebDriverWait(self.driver, timeout, 0.2, ignored).until(lambda _: condition())

    def visible(self, css: str, timeout: float = 30) -> WebElement:
        return self.wait(
            lambda: next((e for e in self.driver.find_elements(By.CSS_SELECTOR, css) if e.is_displayed()), None),
            timeout,
        )

    def type(self, css: str, text: str) -> None:
        element = self.find(css)
        element.clear()
        element.send_keys(text)

    def go(self, page: str) -> None:
        self.find(f'nav a[href="#/{page}"]').click()
        self.visible(f'nav a[href="#/{page}"][aria-current="page"]')

    def error(self) -> str:
        box = self.find("#error")
        return box.text if box.is_displayed() else ""

    def confirm(self) -> None:
        self.wait(lambda: self.driver.switch_to.alert).accept()

    def shot(self, name: str, showing: str = "main") -> None:
        """A screenshot with `showing` scrolled to the top; the page must fit a phone's width."""
        self.driver.execute_script("arguments[0].scrollIntoView()", self.find(showing))
        self.driver.save_screenshot(str(self.shots / f"{name}.png"))
        width = self.driver.execute_script("return document.documentElement.scrollWidth")
        assert width <= PHONE_WIDTH, f"{name}: the page is {width} px wide, wider than a phone"


@contextmanager
def open_studio(stack: LocalStackProcess, folder: Path) -> Iterator[tuple[Studio, Path]]:
    """Chromium on the studio's first page (its downloads folder beside it); on the way out,
    no script error or CSP violation may have reached the console."""
    downloads, shots = folder / "downloads", folder / "screenshots"
    downloads.mkdir()
    shots.mkdir()
    driver = chromium(downloads, RECORDING)
    try:
        driver.get(f"{stack.api}/studio/")
        yield Studio(driver, shots, stack), downloads
        # refused requests (401s) are expected
        problems = [e for e in driver.get_log("browser") if e["level"] == "SEVERE" and e["source"] != "network"]
        assert not problems, problems
    finally:
        driver.save_screenshot(str(shots / "last.png"))
        print(f"studio's last error: {driver.find_element(By.ID, 'error').get_attribute('textContent')!r}")
        driver.quit()
        print(f"studio screenshots: {shots}")


@pytest.fixture
def studio(tmp_path: Path) -> Iterator[tuple[Studio, Path]]:
    stack = LocalStackProcess(tmp_path / "data").start()
    try:
        with open_studio(stack, tmp_path) as opened:
            yield opened
    finally:
        assert stack.stop() == 0, stack.output()


def test_studio_journey(studio: tuple[Studio, Path]) -> None:
    browser, downloads = studio
    sign_up(browser)
    record_and_upload_samples(browser)
    make_voice(browser)
    audio = generate_script(browser)
    play_with_highlight(browser)
    saved = download(browser, downloads, audio)
    detect_watermark(browser, saved)
    library_play_and_delete(browser)
    settings(browser)
    refresh_sign_out_and_in(browser)


def test_an_administrator_reviews_a_held_voice(studio: tuple[Studio, Path]) -> None:
    """A second account's clone of a voice another account already cloned is held; an
    administrator finds it in the studio's review queue, sees whose voice it resembles and
    approves it with a note; the runtime settings are listed beside the queue."""
    browser, _ = studio
    owner = account_over_http(browser.stack, "owner@example.com")
    _, status = clone_over_http(owner)
    assert status == "ready"
    copycat = account_over_http(browser.stack, "copycat@example.com")
    held, status = clone_over_http(copycat)
    assert status == "needs_review"
    owner_id = owner.get("/api/v1/auth/profile").json()["data"]["user_id"]
    sign_up(browser, "root@example.com")
    grant_admin(browser.stack, "root@example.com")

    def held_voice_listed() -> WebElement | None:
        browser.driver.get(f"{browser.stack.api}/studio/#/settings")
        browser.driver.refresh()  # the same address again would not load the page anew
        browser.visible("#keys-title")
        time.sleep(1)  # the page's calls answer
        listed = browser.driver.find_elements(By.CSS_SELECTOR, f'#review-list li[data-clone-id="{held}"]')
        return listed[0] if listed else None

    item = browser.wait(held_voice_listed, 30)  # the role applies within the principal cache's lifetime
    assert owner_id in item.text
    browser.wait(lambda: "Watermark every output" in browser.find("#runtime-config").text)
    browser.shot("09-review-queue", "#review-title")
    item.find_element(By.CSS_SELECTOR, "input").send_keys("the owner confirmed it is their twin")
    item.find_element(By.XPATH, ".//button[text()='Approve']").click()
    browser.wait(lambda: "Nothing is waiting for review." in browser.find("#review-list").text)
    clone = copycat.get(f"/api/v1/voice/clones/{held}").json()["data"]
    assert clone["status"] == "ready" and clone["review"]["note"] == "the owner confirmed it is their twin"


def grant_admin(stack: LocalStackProcess, email: str) -> None:
    """The operator's grant, made on the table as voxify.manage documents it (the address
    marked verified too: the mail with its token stays inside the emulator)."""
    table = aws(stack, "dynamodb")
    pointer = table.get_item(TableName="voxify-local-data", Key={"pk": {"S": f"EMAIL#{email}"}, "sk": {"S": "EMAIL"}})
    table.update_item(
        TableName="voxify-local-data",
        Key={"pk": {"S": f"USER#{pointer['Item']['user_id']['S']}"}, "sk": {"S": "PROFILE"}},
        UpdateExpression="SET #role = :admin, email_verified = :true",
        ExpressionAttributeNames={"#role": "role"},
        ExpressionAttributeValues={":admin": {"S": "admin"}, ":true": {"BOOL": True}},
    )


def sign_up(browser: Studio, email: str = "ada@example.com") -> None:
    browser.type("#signin-email", "nobody@example.com")
    browser.type("#signin-password", "not the password 1")
    browser.find("#signin-email").submit()
    browser.wait(browser.error)
    assert not browser.error().lstrip().startswith("{"), browser.error()  # the envelope's message, not JSON
    browser.shot("01-sign-in")
    for css, value in [
        ("#signup-first", "Ada"),
        ("#signup-last", "Lovelace"),
        ("#signup-email", email),
        ("#signup-password", PASSWORD),
    ]:
        browser.type(css, value)
    browser.find("#signup-password").submit()
    browser.visible('nav a[href="#/samples"][aria-current="page"]')


def record_and_upload_samples(browser: Studio) -> None:
    browser.find("#record-toggle").click()
    browser.wait(lambda: "consent" in browser.error())  # nothing is recorded before consent
    browser.find("#sample-consent").click()
    assert browser.find("#sample-transcript").get_attribute("value") == REFERENCE_TEXT
    browser.find("#record-toggle").click()
    browser.wait(lambda: float(browser.find("#record-level").get_attribute("value") or 0) > 0, 10)  # the meter moves
    time.sleep(5.5)  # the fake microphone plays the 5.3 s recording
    browser.find("#record-toggle").click()
    browser.visible("#sample-list li[data-status]")
    browser.type("#sample-name", "Uploaded file")
    browser.find("#sample-file").send_keys(str(RECORDING))
    browser.find("#sample-upload").click()
    statuses = browser.wait(lambda: len(settled := settled_samples(browser)) == 2 and settled, 90)
    assert statuses == ["ready", "ready"], browser.text("#sample-list")
    table = browser.text("#sample-list table.quality")
    for measurement in ("Length", "Speech", "Loudness", "Clipping", "Background noise"):
        assert measurement in table
    assert "quality" in browser.text("#sample-list .sample-status")
    browser.shot("02-samples", "#samples-title")


def settled_samples(browser: Studio) -> list[str]:
    items = browser.driver.find_elements(By.CSS_SELECTOR, "#sample-list li[data-status]")
    statuses = [item.get_attribute("data-status") for item in items]
    return statuses if all(s in ("ready", "rejected") for s in statuses) else []


def make_voice(browser: Studio) -> None:
    browser.go("voices")
    browser.visible("#clone-ref-text")
    uploaded, recorded = browser.driver.find_elements(By.CSS_SELECTOR, "#clone-form input[name=sample]")
    uploaded.click()  # the voice is made from the recording alone
    recorded.click()
    assert browser.find("#clone-ref-text").get_attribute("value") == REFERENCE_TEXT  # the prompt read
    browser.find("#clone-consent").click()
    browser.find("#clone-form button[type=submit]").click()
    browser.visible('#voice-list li[data-status="ready"]', 60)
    browser.find('#voice-list li[data-status="ready"] button.secondary').click()
    browser.wait(lambda: "active voice" in browser.find("#voice-list").text)
    browser.find('#voice-list li[data-status="ready"] button.similar-voices').click()
    # the uploaded sample is the same speaker (the same recording) and not part of the voice
    browser.wait(lambda: "% alike" in browser.find("#voice-list .similar").text, 60)
    browser.shot("03-voices", "#voices-title")


def generate_script(browser: Studio) -> str:
    browser.go("script")
    browser.visible("#block-1-text").send_keys(BLOCKS[0])
    browser.find("#block-1-pause").clear()
    browser.find("#block-1-pause").send_keys("0.4")
    browser.find("#add-block").click()
    browser.visible(".block:nth-of-type(2) .block-text").send_keys(BLOCKS[1])
    browser.find("#generate").click()
    seen = set()
    browser.wait(
        lambda: (
            seen.add(browser.find("#job-progress").get_attribute("value"))
            or browser.driver.find_elements(By.ID, "download")
        ),
        60,
    )
    assert "100" in seen or browser.find("#job-progress").get_attribute("value") == "100", seen
    assert "100 %" in browser.text("#job-message")
    browser.shot("04-script-generated", "#output-title")
    return browser.find("#opt-format").get_attribute("value")


def play_with_highlight(browser: Studio) -> None:
    browser.driver.execute_script("document.querySelector('#result audio').play()")
    spoken: list[str] = []

    def highlighted_words() -> bool:
        word = browser.driver.execute_script("return document.querySelector('.transcript .spoken')?.textContent")
        if word and word not in spoken:
            spoken.append(word)
        return len(spoken) >= 3

    browser.wait(highlighted_words, 20)
    playing = browser.driver.execute_script("return document.querySelector('#result audio').currentTime")
    assert playing > 0.3 and all(word in " ".join(BLOCKS) for word in spoken), spoken
    assert browser.wait(lambda: waveform_shows_playback(browser), 10)
    browser.shot("05-playing", "#output-title")


def waveform_shows_playback(browser: Studio) -> bool:
    """The waveform is drawn, and its played part (the accent colour) has begun."""
    return bool(
        browser.driver.execute_script(
            """const canvas = document.querySelector('#result canvas.waveform');
            const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
            let played = 0, ahead = 0;
            for (let i = 0; i < pixels.length; i += 4) {
              if (pixels[i] === 0x23 && pixels[i + 1] === 0x46 && pixels[i + 2] === 0xc4) played += 1;
              if (pixels[i] === 0xb9 && pixels[i + 1] === 0xc2 && pixels[i + 2] === 0xe6) ahead += 1;
            }
            return played > 0 && ahead > 0;"""
        )
    )


def download(browser: Studio, downloads: Path, audio_format: str) -> Path:
    browser.find("#download").click()
    saved: Path = browser.wait(lambda: finished_download(downloads, audio_format), 20)
    head = saved.read_bytes()[:3]
    assert head == b"ID3" or head[:2] in (b"\xff\xfb", b"\xff\xf3"), head  # an MP3
    return saved


def detect_watermark(browser: Studio, saved: Path) -> None:
    """The file just downloaded, checked on the Detect page, carries Voxify's mark."""
    browser.go("detect")
    browser.find("#detect-file").send_keys(str(saved))
    browser.find("#detect-form button[type=submit]").click()
    verdict = browser.visible("#detect-result [data-marked]", 60)
    assert verdict.get_attribute("data-marked") == "true", verdict.text
    assert "carries Voxify's watermark" in verdict.text
    browser.shot("06-detect", "#detect-title")


def finished_download(downloads: Path, audio_format: str) -> Path | None:
    """The saved file once Chromium has finished writing it.

    Chromium reserves the final name with an empty file when a download starts, writes into a
    ``.crdownload`` beside it and renames that over the placeholder when done.
    """
    if any(path.suffix == ".crdownload" for path in downloads.iterdir()):
        return None
    saved = [path for path in downloads.iterdir() if path.suffix == f".{audio_format}"]
    return saved[0] if saved and saved[0].stat().st_size > 0 else None


def library_play_and_delete(browser: Studio) -> None:
    browser.go("library")
    browser.wait(lambda: "1 generated" in browser.find("#library-count").text)
    assert "2 samples" in browser.text("#library-count")
    sorted_library(browser)
    item = '#library-list li[data-type="audio"]'
    browser.find(f"{item} button.secondary").click()  # Play
    browser.wait(
        lambda: browser.driver.execute_script(f"return document.querySelector('{item} audio')?.currentTime ?? 0") > 0.2,
        20,
    )
    browser.shot("07-library", "#library-list")
    browser.find(f"{item} button.danger").click()
    browser.confirm()
    browser.wait(lambda: "0 generated" in browser.find("#library-count").text)
    assert not browser.driver.find_elements(By.CSS_SELECTOR, item)


def library_listing(browser: Studio) -> list[tuple[str, str]]:
    """The library's items as listed: (id, name)."""
    items = browser.driver.find_elements(By.CSS_SELECTOR, "#library-list li[data-item-id]")
    return [(item.get_attribute("data-item-id") or "", item.find_element(By.TAG_NAME, "strong").text) for item in items]


def sorted_library(browser: Studio) -> None:
    """The API lists newest first; the studio also orders oldest first and by name."""
    newest = library_listing(browser)
    Select(browser.find("#library-sort")).select_by_value("oldest")
    browser.wait(lambda: library_listing(browser) == newest[::-1])
    Select(browser.find("#library-sort")).select_by_value("name")
    browser.wait(lambda: library_listing(browser) == sorted(newest, key=lambda item: item[1].casefold()))
    Select(browser.find("#library-sort")).select_by_value("newest")
    browser.wait(lambda: library_listing(browser) == newest)


def settings(browser: Studio) -> None:
    """An API key and a webhook secret are shown once; both are listed, then deleted."""
    browser.go("settings")
    browser.wait(lambda: "ada@example.com" in browser.find("#profile-form").text)
    browser.type("#key-name", "render farm")
    browser.find("#key-form button[type=submit]").click()
    assert browser.visible("#new-key").get_attribute("value").startswith("vx_")
    browser.visible("#key-list li[data-key-id]")
    browser.type("#webhook-url", "http://127.0.0.1:9/hooks/voxify")
    browser.find("#webhook-form button[type=submit]").click()
    assert browser.visible("#new-webhook-secret").get_attribute("value")
    hook = "#webhook-list li[data-webhook-id]"
    browser.visible(hook).find_element(By.CSS_SELECTOR, "button.secondary").click()  # its delivery log
    browser.wait(lambda: "Nothing delivered yet." in browser.find(hook).text or browser.find(f"{hook} table"))
    browser.shot("08-settings", "#keys-title")
    for item in ("#key-list li[data-key-id]", hook):
        browser.find(f"{item} button.danger").click()
        browser.confirm()
        browser.wait(lambda item=item: not browser.driver.find_elements(By.CSS_SELECTOR, item))


def refresh_sign_out_and_in(browser: Studio) -> None:
    """An expired access token is refreshed without the user noticing; signing out ends the session."""
    session = json.loads(browser.driver.execute_script("return localStorage.getItem('voxify.studio.session')"))
    session["access"] = "expired.or.forged"
    browser.driver.execute_script("localStorage.setItem('voxify.studio.session', arguments[0])", json.dumps(session))
    browser.driver.refresh()
    browser.go("voices")
    browser.visible('#voice-list li[data-status="ready"]')
    assert not browser.error()
    browser.find("#sign-out").click()
    browser.visible("#signin-email")
    browser.type("#signin-email", "ada@example.com")
    browser.type("#signin-password", PASSWORD)
    browser.find("#signin-email").submit()
    browser.visible('nav a[aria-current="page"]')
