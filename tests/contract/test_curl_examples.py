"""The specification documents' own curl examples, run as written.

The examples are the documents' text (tests/contract/curl_examples/), parsed when the tests
run and sent as curl sends them. Only placeholders are replaced (tokens, ids the documents
make up, the audio files they name). An example a safety rule refuses as written is sent as
written first (and must be refused as the rule says), then with the change DEVIATIONS names;
docs/compatibility.md lists the same examples, and the first test holds the two lists equal.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from tests.fixtures.api import PASSWORD, ApiUser
from tests.fixtures.curl import AS_WRITTEN, EXAMPLES, Change, CurlExample, load_examples, prepare, send
from tests.fixtures.worker import WorkerHarness, reference_speech

COMPATIBILITY = Path(__file__).resolve().parents[2] / "docs" / "compatibility.md"
DOCUMENTS = ("000", "001", "002", "004")  # 003 prints no curl example
AUDIO = {name: reference_speech() for name in ("voice_sample.wav", "sample.wav", "audio.wav")}


@dataclass(frozen=True)
class Deviation:
    """The rules (rows of docs/compatibility.md's "Where safety wins") that refuse an example
    as written, and the change that makes it acceptable."""

    rules: tuple[str, ...]
    change: Change


CONSENT = Deviation(("Consent to cloning",), Change(json={"consent": True}))
SIGNED_IN = Deviation(("Authentication",), Change(args=("-H", "Authorization: Bearer <token>")))
STRONG_PASSWORD = Deviation(("Passwords",), Change(replace={"test123": PASSWORD}))
DEVIATIONS: dict[tuple[str, str], Deviation] = {
    ("000", "Voice Sample Upload and Clone Creation: Create voice clone"): CONSENT,
    ("001", "4. Train Voice Clone"): CONSENT,
    ("002", "Upload a voice sample"): Deviation(
        ("Authentication", "Consent to cloning"), Change(args=(*SIGNED_IN.change.args, "-F", "consent=true"))
    ),
    ("002", "Synthesize speech"): SIGNED_IN,
    ("002", "Get voice metadata"): SIGNED_IN,
    ("004", "Register & Login: Register"): STRONG_PASSWORD,
    ("004", "Register & Login: Login"): STRONG_PASSWORD,
    ("004", "Create Generation"): CONSENT,
}


class Examples:
    """One document's examples, run in its order against `client`; remembers which ran."""

    def __init__(self, document: str, client: TestClient, out: Path) -> None:
        self.document, self.client, self.out = document, client, out
        self.examples = load_examples(document)
        self.placeholders: dict[str, str] = {}
        self.ran: set[tuple[str, bool]] = set()

    def as_written(self, title: str) -> httpx.Response:
        return self._send(title, AS_WRITTEN, changed=False)

    def changed(self, title: str) -> httpx.Response:
        """The example with the change its deviation names."""
        return self._send(title, DEVIATIONS[self.document, title].change, changed=True)

    def _send(self, title: str, change: Change, changed: bool) -> httpx.Response:
        self.ran.add((title, changed))
        return send(self.client, prepare(self.examples[title], self.placeholders, change), AUDIO, self.out)

    def saved(self, title: str) -> bytes:
        """What the example's `-o`/`--output` wrote."""
        example: CurlExample = self.examples[title]
        assert example.output, title
        return (self.out / example.output).read_bytes()

    def assert_all_ran(self) -> None:
        """Every example ran as written, and exactly the deviating ones ran changed too."""
        expected = {(t, False) for t in self.examples}
        expected |= {(t, True) for (doc, t) in DEVIATIONS if doc == self.document}
        assert self.ran == expected


def assert_refused(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status and response.json()["error"]["code"] == code, response.text


def test_deviations_are_the_documented_ones() -> None:
    assert sorted(p.stem for p in EXAMPLES.glob("*.sh")) == list(DOCUMENTS)
    # as many as the documents print (and docs/compatibility.md counts): none was left out
    assert {d: len(load_examples(d)) for d in DOCUMENTS} == {"000": 7, "001": 6, "002": 3, "004": 4}
    text = COMPATIBILITY.read_text()
    section = text.split("## The documents' curl examples", 1)[1].split("\n## ", 1)[0]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in section.splitlines() if line.startswith("| 0")]
    assert {(r[0], r[1]): tuple(r[4].split(", ")) for r in rows} == {k: d.rules for k, d in DEVIATIONS.items()}
    safety = text.split("## Where safety wins", 1)[1].split("\n## ", 1)[0]
    rules = {line.split("|")[1].strip() for line in safety.splitlines() if line.startswith("| ")}
    assert {rule for d in DEVIATIONS.values() for rule in d.rules} <= rules
    for document, title in DEVIATIONS:
        assert title in load_examples(document), (document, title)


def test_000_examples(api: TestClient, worker: WorkerHarness, tmp_path: Path) -> None:
    run = Examples("000", api, tmp_path)
    title = "User Registration and Authentication: "
    registered = run.as_written(title + "Register new user")
    assert registered.status_code == 201 and registered.json()["success"] is True
    assert registered.json()["data"]["email"] == "user@example.com"
    login = run.as_written(title + "Login")
    assert login.status_code == 200 and login.json()["data"]["token_type"].lower() == "bearer"
    run.placeholders["<access_token>"] = login.json()["data"]["access_token"]

    title = "Voice Sample Upload and Clone Creation: "
    sample = run.as_written(title + "Upload voice sample")
    assert sample.status_code == 201, sample.text
    assert sample.json()["data"]["name"] == "My Voice Sample"
    run.placeholders["sample_123"] = sample.json()["data"]["sample_id"]
    worker.drain()
    assert_refused(run.as_written(title + "Create voice clone"), 400, "CONSENT_REQUIRED")
    clone = run.changed(title + "Create voice clone")
    assert clone.status_code == 201, clone.text
    assert clone.json()["data"]["name"] == "My Voice Clone"
    run.placeholders["clone_456"] = clone.json()["data"]["clone_id"]
    worker.drain()

    title = "Synthesis Job Creation and Monitoring: "
    job = run.as_written(title + "Create synthesis job")
    assert job.status_code == 201, job.text
    created = job.json()["data"]
    assert created["text_content"] == "Hello world, this is a test synthesis." and created["status"] == "pending"
    assert (created["pitch"], created["pitch_semitones"], created["sample_rate"]) == (1.0, 0.0, 22050)
    run.placeholders["job_123"] = created["job_id"]
    worker.drain()
    progress = run.as_written(title + "Monitor job progress (SSE stream)")
    assert progress.status_code == 200 and progress.headers["content-type"].startswith("text/event-stream")
    events = [json.loads(line[6:]) for line in progress.text.splitlines() if line.startswith("data: ")]
    assert events[-1] == {"event": "complete"} and events[-2]["status"] == "completed"
    download = run.as_written(title + "Download result")
    assert download.status_code == 200 and download.headers["content-type"] == "audio/wav"
    assert run.saved(title + "Download result")[:4] == b"RIFF"
    run.assert_all_ran()


def test_001_examples(api: TestClient, worker: WorkerHarness, tmp_path: Path) -> None:
    run = Examples("001", api, tmp_path)
    assert run.as_written("1. User Registration").status_code == 201
    login = run.as_written("2. User Login")
    assert login.status_code == 200 and login.json()["success"] is True
    run.placeholders["<access_token>"] = login.json()["data"]["access_token"]
    sample = run.as_written("3. Upload Voice Sample")
    assert sample.status_code == 201, sample.text
    uploaded = sample.json()["data"]
    assert (uploaded["name"], uploaded["description"]) == ("My Voice Sample", "High quality recording")
    run.placeholders["vs_1234567890"] = uploaded["sample_id"]
    worker.drain()

    assert_refused(run.as_written("4. Train Voice Clone"), 400, "CONSENT_REQUIRED")
    trained = run.changed("4. Train Voice Clone")
    assert trained.status_code == 202 and trained.json()["success"] is True, trained.text
    assert trained.json()["data"]["status"] == "pending" and trained.json()["data"]["training_job_id"]
    assert trained.json()["data"]["features"]["timestamp_alignment_enabled"] is True
    worker.drain()

    listed = run.as_written("5. List Cloned Voices")
    assert listed.status_code == 200
    assert [s["sample_id"] for s in listed.json()["data"]] == [uploaded["sample_id"]]
    assert listed.json()["meta"]["pagination"]["total_count"] == 1

    with worker.in_background():
        spoken = run.as_written("6. Text-to-Speech with Timestamps")
    assert spoken.status_code == 200, spoken.text
    data = spoken.json()["data"]
    assert data["synthesis_id"] and data["audio_url"] and data["duration"] > 0
    assert (data["format"], data["sample_rate"]) == ("wav", 22050)
    assert [w["word"] for w in data["word_timestamps"]][:2] == ["Hello", "world"]
    assert set(data["word_timestamps"][0]) >= {"word", "start_time", "end_time"}
    assert set(data["syllable_timestamps"][0]) >= {"syllable", "start_time", "end_time"}
    run.assert_all_ran()


def test_002_examples(alice: ApiUser, worker: WorkerHarness, tmp_path: Path) -> None:
    run = Examples("002", alice.client, tmp_path)
    run.placeholders["<token>"] = alice.access_token
    unauthenticated = run.as_written("Upload a voice sample")
    assert unauthenticated.status_code == 401 and isinstance(unauthenticated.json()["detail"], str)
    with worker.in_background():
        uploaded = run.changed("Upload a voice sample")
    assert uploaded.status_code == 201, uploaded.text
    voice = uploaded.json()
    assert (voice["filename"], voice["message"]) == ("sample.wav", "Voice registered successfully")
    run.placeholders["{voice_id}"] = voice["voice_id"]

    assert run.as_written("Synthesize speech").status_code == 401
    with worker.in_background():
        spoken = run.changed("Synthesize speech")
    assert spoken.status_code == 200 and spoken.headers["content-type"] == "audio/wav", spoken.text
    assert run.saved("Synthesize speech")[:4] == b"RIFF"

    assert run.as_written("Get voice metadata").status_code == 401
    shown = run.changed("Get voice metadata")
    assert shown.status_code == 200
    assert (shown.json()["voice_id"], shown.json()["name"]) == (voice["voice_id"], "My Voice")
    assert shown.json()["description"] == "Test voice"
    run.assert_all_ran()


def test_004_examples(api: TestClient, worker: WorkerHarness, tmp_path: Path) -> None:
    run = Examples("004", api, tmp_path)
    weak = run.as_written("Register & Login: Register")
    assert weak.status_code == 400 and "password" in weak.json()["detail"]
    registered = run.changed("Register & Login: Register")
    assert registered.status_code == 201, registered.text
    assert (registered.json()["username"], registered.json()["email"]) == ("test", "test@test.com")
    wrong = run.as_written("Register & Login: Login")
    assert wrong.status_code == 401 and wrong.json() == {"detail": "Incorrect username or password"}
    login = run.changed("Register & Login: Login")
    assert login.status_code == 200 and login.json()["token_type"] == "bearer", login.text
    run.placeholders["YOUR_TOKEN"] = login.json()["access_token"]

    uploaded = run.as_written("Upload Sample")
    assert uploaded.status_code == 201, uploaded.text
    sample = uploaded.json()
    assert (sample["sample_name"], sample["upload_type"]) == ("Test Sample", "uploaded")
    assert sample["user_id"] == registered.json()["user_id"]
    run.placeholders['"sample_id":1'] = f'"sample_id":"{sample["sample_id"]}"'

    refused = run.as_written("Create Generation")
    assert refused.status_code == 400 and "consent" in refused.json()["detail"]
    with worker.in_background():
        created = run.changed("Create Generation")
    assert created.status_code == 201, created.text
    generation = created.json()
    assert (generation["model_name"], generation["script_text"]) == ("Test Voice", "Hello world")
    assert generation["status"] == "pending" and generation["sample_id"] == sample["sample_id"]
    run.assert_all_ran()
