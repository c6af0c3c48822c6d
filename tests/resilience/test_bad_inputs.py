"""A corpus of bad inputs against the in-process API: each one is refused, cleanly.

Every case asserts:

* a 4xx status, never a 5xx, and exactly the one expected;
* the error envelope `{"success": false, "data": null, "error": {"code": <code>, ...}}` with
  exactly the expected `ErrorCode` (clients match on the code, never on the message);
* nothing half-written. Read straight from the emulator: every item of the data,
  idempotency and rate-limit tables (request counters aside; a daily quota taken and
  refunded counts as untouched), every key and ETag in the bucket (so no new object under
  samples/ or searches/), and the depth of both work queues are what they were before the
  request. Read through the API: alice's listing for the area (samples, clones, jobs,
  webhooks, batches or her profile) shows the same ids with the same statuses, so no job
  is left `pending` and no count moved.

One emulated stack serves the module (`world`): provisioning costs about two seconds, so a
stack per case would make the corpus take minutes. Cases do not depend on each other: each
compares the state after its request with the state just before it, and whatever a failing
case wrote anyway is put back before the next one.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import jwt
import numpy as np
import pytest
from fastapi.testclient import TestClient

from tests.fixtures.api import ApiUser, register, reset_caches, wav_bytes
from tests.fixtures.aws import AsPrincipal, api_credentials, clear_aws_environment, provision
from tests.fixtures.bombs import flac_bomb, one_sample_wav
from tests.fixtures.storage import objects
from tests.fixtures.voices import ready_clone
from voxify.adapters.secrets import signing_key
from voxify.audio_format import sniff_audio_format
from voxify.domain.batches import MAX_MANIFEST_BYTES
from voxify.domain.jobs import MAX_BLOCKS, MAX_TEXT_CHARS, JobStatus
from voxify.domain.voices import CloneStatus
from voxify.errors import ErrorCode
from voxify.http.app import create_app
from voxify.logic.batches import ingest_manifest
from voxify.repositories.jobs import JobRepository
from voxify.repositories.voices import CloneRepository, SampleRepository
from voxify.settings import get_settings
from voxify.storage import AudioStore, output_key

# Settings of the app under test, set before the app and the users are created.
WORLD_ENVIRONMENT = {
    "VOXIFY_RATE_LIMIT_PER_MINUTE": "100000",  # snapshots make many requests a minute
    "VOXIFY_SEARCH_WAIT_SECONDS": "0",  # no worker here: searches answer 202 at once
    "VOXIFY_SYNC_WAIT_SECONDS": "0",
}
SMALL_INLINE_LIMIT = {"VOXIFY_MAX_INLINE_UPLOAD_BYTES": "1000"}

TEXT_AS_WAV = b"this is plain text pretending to be a wav file\n" * 20
RANDOM_BYTES = b"\x00" + np.random.default_rng(7).integers(0, 256, 4095, dtype=np.uint8).tobytes()
TRUNCATED_WAV = wav_bytes(0.5)[:10]  # cut inside the RIFF/WAVE signature
TRAVERSAL = "../../etc/passwd"
INVISIBLE = "\u200b\u200d\u202e\u2066"  # zero-width space and joiner, RTL override, LTR isolate
assert sniff_audio_format(TEXT_AS_WAV) is None and sniff_audio_format(RANDOM_BYTES) is None
assert sniff_audio_format(TRUNCATED_WAV) is None
# Audio by its first bytes, but the header already shows it cannot play or holds too much.
TRUNCATED_FLAC = flac_bomb(seconds=10, block=65535)[:30]  # cut inside STREAMINFO
MP3_OVER_GARBAGE = b"\xff\xfb\x90\x64" + RANDOM_BYTES  # one valid frame header, then noise
ONE_SAMPLE_WAV = one_sample_wav()
FLAC_12_HOURS = flac_bomb(block=65535)  # a constant for 12 h in 450 KB; STREAMINFO says so
assert all(sniff_audio_format(data[:64]) for data in (TRUNCATED_FLAC, MP3_OVER_GARBAGE, ONE_SAMPLE_WAV))


def chunked(total: int):
    """A body of `total` bytes sent in chunks, without a Content-Length."""
    for _ in range(total // 65536):
        yield b"\0" * 65536


JSON = {"Content-Type": "application/json"}
SAMPLES, CLONES, JOBS = "/api/v1/voice/samples", "/api/v1/voice/clones", "/api/v1/job"
WEBHOOKS, BATCHES, PROFILE = "/api/v1/webhooks", "/api/v1/batches", "/api/v1/auth/profile"
ID_FIELDS = {SAMPLES: "sample_id", CLONES: "clone_id", JOBS: "job_id", WEBHOOKS: "webhook_id", BATCHES: "batch_id"}


# --------------------------------------------------------------------------- the world


@dataclass
class Stored:
    """Everything stored, read straight from the emulator: cheap enough to take twice a case."""

    items: dict[tuple[str, ...], dict[str, Any]]  # (table, key values...) -> item as DynamoDB holds it
    objects: dict[str, str]  # S3 key -> ETag
    queues: dict[str, int]  # queue -> messages waiting

    def view(self) -> dict[str, Any]:
        """What must not change. Request counters (RATE#) count every call; a daily quota
        taken and refunded is the same as one never taken, whatever its expiry stamp."""
        items: dict[tuple[str, ...], Any] = {}
        for key, item in self.items.items():
            pk = item.get("pk", {}).get("S", "")
            if pk.startswith("RATE#"):
                continue
            if pk.startswith("QUOTA#"):
                if int(item.get("used", {}).get("N", "0")):
                    items[key] = int(item["used"]["N"])
                continue
            items[key] = item
        return {"items": items, "objects": self.objects, "queues": self.queues}


def describe_change(before: dict[str, Any], after: dict[str, Any]) -> str:
    lines = []
    for part in ("items", "objects"):
        old, new = before[part], after[part]
        lines += [f"{part} added: {key}" for key in new.keys() - old.keys()]
        lines += [f"{part} removed: {key}" for key in old.keys() - new.keys()]
        lines += [f"{part} changed: {key}" for key in old.keys() & new.keys() if old[key] != new[key]]
    if before["queues"] != after["queues"]:
        lines.append(f"queues: {before['queues']} -> {after['queues']}")
    return "\n".join(lines)


@dataclass
class Baseline:
    stored: Stored
    listings: dict[str, list[tuple[str, Any]]]


@dataclass
class World:
    """One stack, two users and alice's things in every state a case needs."""

    client: TestClient
    endpoint: str
    bucket: str
    alice: ApiUser
    bob: ApiUser
    ids: dict[str, str] = field(default_factory=dict)
    scratch: dict[str, str] = field(default_factory=dict)  # made by a case's prepare step
    baseline: Baseline | None = None  # what the last clean case left, see run_case

    def __post_init__(self) -> None:
        settings = get_settings()
        self._dynamodb = boto3.client("dynamodb", endpoint_url=self.endpoint)
        self._s3 = boto3.client("s3", endpoint_url=self.endpoint)
        self._sqs = boto3.client("sqs", endpoint_url=self.endpoint)
        self._tables = {}  # table -> its key attributes
        for table in (settings.table_name, settings.idempotency_table_name, settings.rate_limit_table_name):
            schema = self._dynamodb.describe_table(TableName=table)["Table"]["KeySchema"]
            self._tables[table] = [key["AttributeName"] for key in schema]
        self._queues = {"jobs": settings.jobs_queue_url, "voice work": settings.uploads_queue_url}

    def __getitem__(self, name: str) -> str:
        return self.ids[name] if name in self.ids else self.scratch[name]

    def stored(self) -> Stored:
        items = {}
        for table, keys in self._tables.items():
            for page in self._dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
                for item in page["Items"]:
                    items[(table, *(json.dumps(item[k], sort_keys=True) for k in keys))] = item
        objects = {}
        for page in self._s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
            objects.update({o["Key"]: o["ETag"] for o in page.get("Contents", [])})
        queues = {}
        for name, url in self._queues.items():
            waiting = "ApproximateNumberOfMessages"
            attributes = self._sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[waiting])["Attributes"]
            queues[name] = int(attributes[waiting])
        return Stored(items, objects, queues)

    def put_back(self, before: Stored) -> None:
        """Undo what a refused request wrote anyway (a bug), so later cases start clean."""
        after = self.stored()
        old, new = before.view()["items"], after.view()["items"]
        for key in new.keys() - old.keys():
            table = key[0]
            item = after.items[key]
            self._dynamodb.delete_item(TableName=table, Key={k: item[k] for k in self._tables[table]})
        for key in old:
            if new.get(key) != old[key]:
                self._dynamodb.put_item(TableName=key[0], Item=before.items[key])
        for key in after.objects.keys() - before.objects.keys():
            self._s3.delete_object(Bucket=self.bucket, Key=key)

    def listing(self, path: str) -> list[tuple[str, Any]]:
        """alice's listing through the API: ids and statuses (of her profile: its fields)."""
        response = self.alice.get(path, params={} if path == PROFILE else {"limit": 100})
        assert response.status_code == 200, f"{path}: {response.status_code} {response.text[:300]}"
        data = response.json()["data"]
        if path == PROFILE:
            return sorted((k, data[k]) for k in ("first_name", "last_name", "active_voice_id"))
        assert response.json()["meta"]["pagination"]["total_count"] == len(data)
        return sorted((item[ID_FIELDS[path]], item["status"]) for item in data)

    def fresh_job(self, **options: Any) -> str:
        body = {"text_content": "a job of its own", "voice_model_id": self.ids["voice"], **options}
        created = self.alice.post("/api/v1/job", json=body)
        assert created.status_code == 201, created.text
        return created.json()["data"]["job_id"]

    def forget_scratch(self) -> None:
        """Remove what a case's prepare step made, even a record a bug left unreadable."""
        for name, value in self.scratch.items():
            if name.startswith("job"):
                JobRepository().delete(value)
        self.scratch.clear()


def _complete(job_id: str, user_id: str) -> None:
    """What the worker does at the end of a job, done by hand."""
    key = output_key(user_id, job_id, "wav")
    AudioStore().put(key, wav_bytes(0.2), "audio/wav")
    JobRepository().transition(job_id, JobStatus.PROCESSING, [JobStatus.PENDING])
    JobRepository().transition(
        job_id,
        JobStatus.COMPLETED,
        [JobStatus.PROCESSING],
        {"output_key": key, "block_keys": [key], "duration_seconds": 0.2},
    )


@pytest.fixture(scope="module")
def world(emulator_endpoint) -> Iterator[World]:
    saved = dict(os.environ)
    try:
        clear_aws_environment()  # `saved` puts them back
        _, resources = provision(emulator_endpoint)
        os.environ.update(WORLD_ENVIRONMENT)
        reset_caches()
        # 5xx must come back as responses to assert on, not as exceptions in the test
        app = AsPrincipal(create_app(), api_credentials())  # the API function's role, as deployed
        with TestClient(app, follow_redirects=False, raise_server_exceptions=False) as client:
            alice = register(client, "alice@example.com")
            bob = register(client, "bob@example.com")
            w = World(client, emulator_endpoint, resources.environment["VOXIFY_AUDIO_BUCKET"], alice, bob)
            w.ids["voice"] = ready_clone(alice, "Narrator")  # ready; alice selects no active voice
            w.ids["sample"] = CloneRepository().get(w.ids["voice"]).sample_ids[0]  # ready
            clone = {"sample_ids": [w.ids["sample"]], "ref_text": "hello there", "consent": True}
            for name, status in (("processing_clone", None), ("review_clone", "needs_review")):
                created = alice.post("/api/v1/voice/clones", json={**clone, "name": name})
                w.ids[name] = created.json()["data"]["clone_id"]
                if status:
                    CloneRepository().set_status(w.ids[name], CloneStatus(status))
            w.ids["uploaded_sample"] = alice.post(
                "/api/v1/voice/samples",
                files={"file": ("v.wav", wav_bytes(0.5), "audio/wav")},
                data={"name": "not processed yet"},
            ).json()["data"]["sample_id"]
            w.ids["uploading_sample"] = alice.post(
                "/api/v1/voice/samples/uploads",
                json={"name": "on its way", "size_bytes": 1000},
            ).json()["data"]["sample"]["sample_id"]
            w.ids["job"] = w.fresh_job()  # stays pending
            w.ids["done_job"] = w.fresh_job()
            _complete(w.ids["done_job"], alice.user_id)
            w.ids["processing_job"] = w.fresh_job()
            JobRepository().transition(w.ids["processing_job"], JobStatus.PROCESSING, [JobStatus.PENDING])
            webhook = alice.post("/api/v1/webhooks", json={"url": "https://example.com/hooks"})
            w.ids["webhook"] = webhook.json()["data"]["webhook_id"]
            manifest = f"dropbox/{alice.user_id}/mf_corpus.txt"  # as if it had landed in her drop folder
            w.ids["batch"] = ingest_manifest(manifest, "etag-corpus", b"one line\n").batch_id
            search = alice.get(f"/api/v1/voice/clones/{w.ids['voice']}/similar")
            assert search.status_code == 202, search.text
            w.ids["search"] = search.json()["data"]["search_id"]
            yield w
    finally:
        os.environ.clear()
        os.environ.update(saved)
        reset_caches()


# --------------------------------------------------------------------------- the cases


@dataclass(frozen=True)
class Case:
    name: str
    send: Callable[[World], Any]
    status: int
    code: ErrorCode
    env: dict[str, str] = field(default_factory=dict)
    prepare: Callable[[World], None] | None = None  # runs before the "before" snapshot
    listing: str | None = None  # alice's API listing to compare; the area's by default

    def param(self) -> Any:
        return pytest.param(self, id=self.name)


def params(*cases: Case) -> list[Any]:
    return [case.param() for case in cases]


def assert_refused(response: Any, status: int, code: ErrorCode) -> None:
    assert response.status_code < 500, f"server error {response.status_code}: {response.text[:500]}"
    assert 400 <= response.status_code < 500, f"not refused: {response.status_code} {response.text[:500]}"
    body = response.json()
    assert (response.status_code, body.get("error", {}).get("code")) == (status, code.value), body
    assert body["success"] is False and body["data"] is None, body
    assert body["error"]["code"] in ErrorCode.__members__  # a stable code, not free text
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]


def run_case(world: World, case: Case, listing: str) -> None:
    """Send the case; assert the refusal, then that nothing stored changed, neither in the
    emulator nor in alice's API `listing` (the area's, unless the case names its own).

    A clean case's final state is the next case's starting state (nothing runs in between),
    which halves the reads; a case that prepared something, or failed, leaves none."""
    listing = case.listing or listing
    baseline, world.baseline = world.baseline, None
    before, clean = None, False
    try:
        if case.prepare:
            case.prepare(world)
            baseline = None
        before = baseline.stored if baseline else world.stored()
        listed = baseline.listings.get(listing) if baseline else None
        if listed is None:
            listed = world.listing(listing)
        response = send(world, case)
        assert_refused(response, case.status, case.code)
        after = world.stored()
        change = describe_change(before.view(), after.view())
        assert not change, f"the refused request changed stored state:\n{change}"
        clean = True
        listed_after = world.listing(listing)
        assert listed_after == listed, f"alice's {listing} changed: {listed} -> {listed_after}"
        if not case.prepare:
            world.baseline = Baseline(after, {listing: listed_after})
    finally:
        if before is not None and not clean:
            world.put_back(before)
        world.forget_scratch()


def send(world: World, case: Case) -> Any:
    """The case's request, under its settings if it has any (then forgotten again)."""
    if not case.env:
        return case.send(world)
    with pytest.MonkeyPatch.context() as env:
        for name, value in case.env.items():
            env.setenv(name, value)
        reset_caches()
        try:
            return case.send(world)
        finally:
            env.undo()
            reset_caches()


def upload(user: ApiUser, data: bytes, name: str = "sample", filename: str = "voice.wav", **fields: str) -> Any:
    return user.post(
        "/api/v1/voice/samples", files={"file": (filename, data, "audio/wav")}, data={"name": name, **fields}
    )


def search(user: ApiUser, data: bytes, **fields: str) -> Any:
    return user.post("/api/v1/voice/search", files={"file": ("clip.wav", data, "audio/wav")}, data=fields)


def detect(user: ApiUser, data: bytes) -> Any:
    return user.post("/api/v1/watermark/detect", files={"file": ("clip.mp3", data, "audio/mpeg")})


def raw_json(user: ApiUser, method: str, path: str, body: str | bytes) -> Any:
    """A JSON body sent as written, so escapes like \\ud800 reach the server's parser."""
    content = body.encode() if isinstance(body, str) else body
    return getattr(user.client, method)(path, content=content, headers={**user.headers, **JSON})


def job(world: World, **fields: Any) -> Any:
    return world.alice.post("/api/v1/job", json={"voice_model_id": world["voice"], **fields})


V, NF = ErrorCode.VALIDATION_ERROR, ErrorCode.NOT_FOUND

# ---- uploads: audio that is not audio, empty, truncated, too big; forms that are not forms

UPLOADS = params(
    Case("text-named-wav", lambda w: upload(w.alice, TEXT_AS_WAV), 400, ErrorCode.UNSUPPORTED_AUDIO),
    Case(
        "random-bytes", lambda w: upload(w.alice, RANDOM_BYTES, filename="noise.mp3"), 400, ErrorCode.UNSUPPORTED_AUDIO
    ),
    Case("truncated-wav", lambda w: upload(w.alice, TRUNCATED_WAV), 400, ErrorCode.UNSUPPORTED_AUDIO),
    Case("zero-length", lambda w: upload(w.alice, b""), 400, ErrorCode.UNSUPPORTED_AUDIO),
    Case(
        "over-inline-limit",
        lambda w: upload(w.alice, wav_bytes(0.5)),
        413,
        ErrorCode.PAYLOAD_TOO_LARGE,
        env=SMALL_INLINE_LIMIT,
    ),
    Case("missing-file", lambda w: w.alice.post("/api/v1/voice/samples", data={"name": "x"}), 400, V),
    Case(
        "missing-name",
        lambda w: w.alice.post("/api/v1/voice/samples", files={"file": ("v.wav", wav_bytes(0.2), "audio/wav")}),
        400,
        V,
    ),
    Case("name-too-long", lambda w: upload(w.alice, wav_bytes(0.2), name="n" * 201), 400, V),
    Case("language-too-short", lambda w: upload(w.alice, wav_bytes(0.2), language="e"), 400, V),
    Case(
        "file-as-text-field",
        lambda w: w.alice.post("/api/v1/voice/samples", data={"name": "x", "file": "RIFF....WAVE"}),
        400,
        V,
    ),
    Case(
        "multipart-without-boundary",
        lambda w: w.alice.post(
            "/api/v1/voice/samples", content=b"RIFF", headers={"Content-Type": "multipart/form-data"}
        ),
        400,
        V,
    ),
    Case("json-to-multipart-endpoint", lambda w: w.alice.post("/api/v1/voice/samples", json={"name": "x"}), 400, V),
    Case(
        "presigned-size-zero",
        lambda w: w.alice.post("/api/v1/voice/samples/uploads", json={"name": "x", "size_bytes": 0}),
        400,
        V,
    ),
    Case(
        "presigned-over-max",
        lambda w: w.alice.post("/api/v1/voice/samples/uploads", json={"name": "x", "size_bytes": 51 * 2**20}),
        413,
        ErrorCode.PAYLOAD_TOO_LARGE,
    ),
    Case("search-text-file", lambda w: search(w.alice, TEXT_AS_WAV), 400, ErrorCode.UNSUPPORTED_AUDIO),
    Case("search-random-bytes", lambda w: search(w.alice, RANDOM_BYTES), 400, ErrorCode.UNSUPPORTED_AUDIO),
    Case("search-zero-length", lambda w: search(w.alice, b""), 400, ErrorCode.UNSUPPORTED_AUDIO),
    Case(
        "search-over-inline-limit",
        lambda w: search(w.alice, wav_bytes(0.5)),
        413,
        ErrorCode.PAYLOAD_TOO_LARGE,
        env=SMALL_INLINE_LIMIT,
    ),
    Case("truncated-flac", lambda w: upload(w.alice, TRUNCATED_FLAC), 400, ErrorCode.CORRUPT_AUDIO),
    Case("mp3-header-over-garbage", lambda w: upload(w.alice, MP3_OVER_GARBAGE), 400, ErrorCode.CORRUPT_AUDIO),
    Case("one-sample-wav", lambda w: upload(w.alice, ONE_SAMPLE_WAV), 400, ErrorCode.CORRUPT_AUDIO),
    Case("flac-of-12-hours", lambda w: upload(w.alice, FLAC_12_HOURS), 400, ErrorCode.UNSUPPORTED_AUDIO),
    Case("search-flac-of-12-hours", lambda w: search(w.alice, FLAC_12_HOURS), 400, ErrorCode.UNSUPPORTED_AUDIO),
    Case("search-one-sample-wav", lambda w: search(w.alice, ONE_SAMPLE_WAV), 400, ErrorCode.CORRUPT_AUDIO),
    Case("detect-text-file", lambda w: detect(w.alice, TEXT_AS_WAV), 400, ErrorCode.UNSUPPORTED_AUDIO),
    Case("detect-random-bytes", lambda w: detect(w.alice, RANDOM_BYTES), 400, ErrorCode.UNSUPPORTED_AUDIO),
    Case("detect-zero-length", lambda w: detect(w.alice, b""), 400, ErrorCode.UNSUPPORTED_AUDIO),
    Case("detect-one-sample-wav", lambda w: detect(w.alice, ONE_SAMPLE_WAV), 400, ErrorCode.CORRUPT_AUDIO),
    Case(
        "detect-over-inline-limit",
        lambda w: detect(w.alice, wav_bytes(0.5)),
        413,
        ErrorCode.PAYLOAD_TOO_LARGE,
        env=SMALL_INLINE_LIMIT,
    ),
    Case(
        "body-over-cap-by-content-length",
        lambda w: upload(w.alice, b"\0" * 100_000),
        413,
        ErrorCode.PAYLOAD_TOO_LARGE,
        env=SMALL_INLINE_LIMIT,
    ),
    Case(
        "chunked-body-over-cap",
        lambda w: w.alice.post(
            "/api/v1/voice/samples",
            content=chunked(1_000_000),
            headers={"Content-Type": "multipart/form-data; boundary=xyz"},
        ),
        413,
        ErrorCode.PAYLOAD_TOO_LARGE,
        env=SMALL_INLINE_LIMIT,
    ),
    Case("search-k-zero", lambda w: search(w.alice, wav_bytes(0.2), k="0"), 400, V),
    Case("search-k-51", lambda w: search(w.alice, wav_bytes(0.2), k="51"), 400, V),
)


@pytest.mark.parametrize("case", UPLOADS)
def test_bad_uploads_store_nothing(world, case):
    run_case(world, case, SAMPLES)


# ---- JSON bodies: wrong content types, malformed JSON, oversize text, rules of a job

JSON_BODIES = params(
    Case("form-data-to-json", lambda w: w.alice.post("/api/v1/job", data={"text_content": "hi"}), 400, V),
    Case(
        "text-plain-to-json",
        lambda w: w.alice.post(
            "/api/v1/job",
            content=json.dumps({"text_content": "hi", "voice_model_id": w["voice"]}),
            headers={"Content-Type": "text/plain"},
        ),
        400,
        V,
    ),
    Case(
        "no-content-type",
        lambda w: w.alice.post("/api/v1/job", content=json.dumps({"text_content": "hi", "voice_model_id": w["voice"]})),
        400,
        V,
    ),
    Case(
        "multipart-to-json",
        lambda w: w.alice.post("/api/v1/job", files={"f": ("a", b"x")}, data={"text_content": "hi"}),
        400,
        V,
    ),
    Case("malformed-json", lambda w: raw_json(w.alice, "post", "/api/v1/job", '{"text_content": "hi",'), 400, V),
    Case("json-array", lambda w: raw_json(w.alice, "post", "/api/v1/job", '[{"text_content": "hi"}]'), 400, V),
    Case(
        "invalid-utf8",
        lambda w: raw_json(w.alice, "post", "/api/v1/job", b'{"text_content": "\xff\xfe", "voice_model_id": "x"}'),
        400,
        V,
    ),
    Case("deeply-nested", lambda w: raw_json(w.alice, "post", "/api/v1/job", "[" * 50_000 + "]" * 50_000), 400, V),
    Case(
        "nan-speed",
        lambda w: raw_json(
            w.alice,
            "post",
            "/api/v1/job",
            (f'{{"text_content": "hi", "voice_model_id": "{w["voice"]}", "speed": NaN}}'),
        ),
        400,
        V,
    ),
    Case("text-over-max", lambda w: job(w, text_content="x" * (MAX_TEXT_CHARS + 1)), 400, V),
    Case("blocks-over-max-in-all", lambda w: job(w, blocks=[{"text": "x" * (MAX_TEXT_CHARS // 2 + 1)}] * 2), 400, V),
    Case("too-many-blocks", lambda w: job(w, blocks=[{"text": "x"}] * (MAX_BLOCKS + 1)), 400, V),
    Case("text-and-blocks", lambda w: job(w, text_content="x", blocks=[{"text": "y"}]), 400, V),
    Case("no-text", lambda w: job(w), 400, V),
    Case("empty-text", lambda w: job(w, text_content=""), 400, V),
    Case(
        "async-text-over-max",
        lambda w: w.alice.post(
            "/api/v1/tts/synthesize/async",
            json={"text_content": "x" * (MAX_TEXT_CHARS + 1), "voice_model_id": w["voice"]},
        ),
        400,
        V,
    ),
    Case(
        "openai-input-over-max",
        lambda w: w.alice.post("/v1/audio/speech", json={"input": "x" * (MAX_TEXT_CHARS + 1), "voice": w["voice"]}),
        400,
        V,
    ),
    Case(
        "openai-format-not-offered",
        lambda w: w.alice.post("/v1/audio/speech", json={"input": "hi", "voice": w["voice"], "response_format": "aac"}),
        400,
        V,
    ),
    Case(
        "idempotency-key-too-long",
        lambda w: w.alice.post(
            "/api/v1/job",
            json={"text_content": "hi", "voice_model_id": w["voice"]},
            headers={"Idempotency-Key": "k" * 256},
        ),
        400,
        V,
    ),
)


@pytest.mark.parametrize("case", JSON_BODIES)
def test_bad_json_bodies_create_nothing(world, case):
    run_case(world, case, JOBS)


# ---- enums, ranges and pagination


def _list(path: str, **query: Any) -> Callable[[World], Any]:
    """alice reads one of her listings with these query parameters."""
    return lambda w: w.alice.get(path, params=query)


ENUMS_AND_PAGES = params(
    Case("output-format-aiff", lambda w: job(w, text_content="hi", output_format="aiff"), 400, V),
    Case("sample-rate-7", lambda w: job(w, text_content="hi", sample_rate=7), 400, V),
    Case("sample-rate-huge", lambda w: job(w, text_content="hi", sample_rate=10**20), 400, V),
    Case("mp3-at-9000-hz", lambda w: job(w, text_content="hi", output_format="mp3", sample_rate=9000), 400, V),
    Case("speed-3", lambda w: job(w, text_content="hi", speed=3), 400, V),
    Case("granularity-letter", lambda w: job(w, text_content="hi", config={"timestamp_granularity": "letter"}), 400, V),
    Case("limit-negative", _list(JOBS, limit=-1), 400, V),
    Case("limit-zero", _list(SAMPLES, limit=0), 400, V, listing=SAMPLES),
    Case("limit-huge", _list(CLONES, limit=10**30), 400, V, listing=CLONES),
    Case("limit-5000-digits", _list(JOBS, limit="9" * 5000), 400, V),
    Case("offset-negative", _list(WEBHOOKS, offset=-5), 400, V, listing=WEBHOOKS),
    Case("offset-not-a-number", _list(BATCHES, offset="abc"), 400, V, listing=BATCHES),
    Case(
        "deliveries-limit-201",
        lambda w: w.alice.get(f"/api/v1/webhooks/{w['webhook']}/deliveries", params={"limit": 201}),
        400,
        V,
        listing=WEBHOOKS,
    ),
    Case("job-status-filter", _list(JOBS, status="done"), 400, V),
    Case("sample-status-filter", _list(SAMPLES, status="ok"), 400, V, listing=SAMPLES),
    Case("sort-by-password", _list(JOBS, sort_by="password"), 400, V),
    Case("sort-order-sideways", _list(JOBS, sort_order="sideways"), 400, V),
    Case("include-text-maybe", _list(JOBS, include_text="maybe"), 400, V),
    Case("library-type-video", _list("/api/v1/library", type="video"), 400, V, listing=SAMPLES),
    Case(
        "library-item-type-video",
        lambda w: w.alice.delete(f"/api/v1/library/video/{w['sample']}"),
        400,
        V,
        listing=SAMPLES,
    ),
    Case(
        "similar-k-zero",
        lambda w: w.alice.get(f"/api/v1/voice/clones/{w['voice']}/similar", params={"k": 0}),
        400,
        V,
        listing=CLONES,
    ),
    Case("wrong-method", lambda w: w.alice.put(SAMPLES), 405, ErrorCode.METHOD_NOT_ALLOWED, listing=SAMPLES),
    Case("unknown-route", lambda w: w.alice.get("/api/v1/voices"), 404, ErrorCode.NOT_FOUND),
)


@pytest.mark.parametrize("case", ENUMS_AND_PAGES)
def test_invalid_enums_ranges_and_pages(world, case):
    run_case(world, case, JOBS)


# ---- unicode: lone surrogates, invisible characters, NUL, undecodable ids


UNICODE = params(
    Case(
        "surrogate-in-job-text",
        lambda w: raw_json(
            w.alice, "post", JOBS, (f'{{"text_content": "a\\ud800b", "voice_model_id": "{w["voice"]}"}}')
        ),
        400,
        V,
    ),
    Case(
        "surrogate-in-clone-name",
        lambda w: raw_json(
            w.alice,
            "post",
            CLONES,
            (f'{{"sample_ids": ["{w["sample"]}"], "name": "\\udfff", "ref_text": "hi", "consent": true}}'),
        ),
        400,
        V,
        listing=CLONES,
    ),
    Case(
        "surrogate-in-webhook",
        lambda w: raw_json(w.alice, "post", WEBHOOKS, ('{"url": "https://example.com/h", "description": "\\ud800"}')),
        400,
        V,
        listing=WEBHOOKS,
    ),
    Case(
        "surrogate-in-profile",
        lambda w: raw_json(w.alice, "patch", PROFILE, '{"first_name": "\\ud83d"}'),
        400,
        V,
        listing=PROFILE,
    ),
    Case(
        "surrogate-as-openai-voice",
        lambda w: raw_json(w.alice, "post", "/v1/audio/speech", ('{"input": "hi", "voice": "\\ud800"}')),
        400,
        V,
    ),
    Case("invisible-text-over-max", lambda w: job(w, text_content="\u200b" * (MAX_TEXT_CHARS + 1)), 400, V),
    Case("invisible-chars-in-job-id", lambda w: w.alice.get(f"{JOBS}/{w['job']}{INVISIBLE}"), 404, NF),
    Case(
        "rtl-override-in-voice-id", lambda w: job(w, text_content="hi", voice_model_id=f"\u202e{w['voice']}"), 404, NF
    ),
    Case("undecodable-job-id", lambda w: w.alice.delete(f"{JOBS}/%ED%A0%80%FF"), 404, NF),
    Case("nul-in-sample-id", lambda w: w.alice.delete(f"{SAMPLES}/{w['sample']}%00"), 404, NF, listing=SAMPLES),
    Case("nul-in-sample-name", lambda w: upload(w.alice, wav_bytes(0.2), name="evil\x00name"), 400, V, listing=SAMPLES),
    Case(
        "nul-in-clone-name",
        lambda w: w.alice.post(
            CLONES, json={"sample_ids": [w["sample"]], "name": "evil\x00name", "ref_text": "hi", "consent": True}
        ),
        400,
        V,
        listing=CLONES,
    ),
)


@pytest.mark.parametrize("case", UNICODE)
def test_unicode_edge_cases(world, case):
    run_case(world, case, JOBS)


# ---- path traversal: names never reach S3 keys, ids are looked up, never joined into paths

TRAVERSAL_CASES = params(
    Case(
        "traversal-name-fake-audio",
        lambda w: upload(w.alice, TEXT_AS_WAV, name=TRAVERSAL, filename=TRAVERSAL),
        400,
        ErrorCode.UNSUPPORTED_AUDIO,
    ),
    Case("traversal-sample-id-get", lambda w: w.alice.get(f"{SAMPLES}/..%2F..%2Fetc%2Fpasswd"), 404, NF),
    Case("traversal-sample-id-delete", lambda w: w.alice.delete(f"{SAMPLES}/..%2F{w['sample']}"), 404, NF),
    Case("dot-dot-sample-id-delete", lambda w: w.alice.delete(f"{SAMPLES}/%2E%2E"), 404, NF),
    Case(
        "traversal-library-delete",
        lambda w: w.alice.delete(f"/api/v1/library/sample/..%2F..%2Fsamples%2F{w.alice.user_id}"),
        404,
        NF,
    ),
    Case(
        "traversal-clone-sample-id",
        lambda w: w.alice.post(
            CLONES, json={"sample_ids": [TRAVERSAL], "name": "x", "ref_text": "hi", "consent": True}
        ),
        404,
        NF,
        listing=CLONES,
    ),
    Case(
        "traversal-voice-id",
        lambda w: job(w, text_content="hi", voice_model_id=f"../{w['voice']}"),
        404,
        NF,
        listing=JOBS,
    ),
    Case(
        "traversal-file-delete",
        lambda w: w.alice.delete(f"/api/v1/file/synthesis/..%2F{w['done_job']}"),
        404,
        NF,
        listing=JOBS,
    ),
    Case(
        "traversal-block-index",
        lambda w: w.alice.get(f"/api/v1/file/synthesis/{w['done_job']}/blocks/-1"),
        404,
        NF,
        listing=JOBS,
    ),
)


@pytest.mark.parametrize("case", TRAVERSAL_CASES)
def test_path_traversal_is_refused(world, case):
    run_case(world, case, SAMPLES)


# ---- batch manifests

MANIFESTS = params(
    *(
        Case(name, lambda w, body=body: w.alice.post("/api/v1/batches/uploads", json=body), 400, V)
        for name, body in (
            ("manifest-format-xlsx", {"format": "xlsx", "size_bytes": 10}),
            ("manifest-format-traversal", {"format": "../x", "size_bytes": 10}),
            ("manifest-format-missing", {"size_bytes": 10}),
            ("manifest-size-zero", {"format": "txt", "size_bytes": 0}),
            ("manifest-size-negative", {"format": "csv", "size_bytes": -1}),
            ("manifest-size-over-1mib", {"format": "jsonl", "size_bytes": MAX_MANIFEST_BYTES + 1}),
            ("manifest-size-fractional", {"format": "txt", "size_bytes": 1.5}),
        )
    )
)


@pytest.mark.parametrize("case", MANIFESTS)
def test_bad_manifests_get_no_upload_form(world, case):
    run_case(world, case, BATCHES)


# ---- authentication: every case aims at a create (a valid sample upload) that must not happen


GUESSED_KEY = "a-guess-at-the-signing-key-that-is-long-enough"


def _token(key: str | None = "real", algorithm: str = "HS256", drop: str = "", **claims: Any) -> Callable[[World], str]:
    """An access token for alice, signed with `key` ("real": the service's own signing key)."""

    def make(w: World) -> str:
        now = int(time.time())
        payload = {"sub": w.alice.user_id, "role": "user", "type": "access", "iat": now, "exp": now + 600, **claims}
        payload.pop(drop, None)
        return jwt.encode(payload, signing_key() if key == "real" else key, algorithm=algorithm)

    return make


def _as(token: str | Callable[[World], str] | None, scheme: str = "Bearer") -> Callable[[World], Any]:
    """A valid sample upload, sent with these credentials."""

    def send(w: World) -> Any:
        headers = {"Authorization": f"{scheme} {token(w) if callable(token) else token}"} if token else {}
        return w.client.post(
            "/api/v1/voice/samples",
            headers=headers,
            data={"name": "x"},
            files={"file": ("v.wav", wav_bytes(0.2), "audio/wav")},
        )

    return send


AUTH = params(
    Case("missing-auth", _as(None), 401, ErrorCode.UNAUTHORIZED),
    Case("basic-scheme", _as("YWxpY2U6cGFzc3dvcmQ=", scheme="Basic"), 401, ErrorCode.UNAUTHORIZED),
    Case("garbage-bearer", _as("garbage.not-a.jwt"), 401, ErrorCode.TOKEN_INVALID),
    Case("forged-wrong-key", _as(_token(GUESSED_KEY, role="admin")), 401, ErrorCode.TOKEN_INVALID),
    Case("alg-none", _as(_token(None, algorithm="none", role="admin")), 401, ErrorCode.TOKEN_INVALID),
    Case("expired", _as(_token(exp=int(time.time()) - 60)), 401, ErrorCode.TOKEN_EXPIRED),
    Case("hs512-with-real-key", _as(_token(algorithm="HS512")), 401, ErrorCode.TOKEN_INVALID),
    Case("no-exp-claim", _as(_token(drop="exp")), 401, ErrorCode.TOKEN_INVALID),
    Case("refresh-type-claim", _as(_token(type="refresh")), 401, ErrorCode.TOKEN_INVALID),
    Case("token-of-unknown-user", _as(_token(sub="usr_ghost")), 401, ErrorCode.TOKEN_INVALID),
    Case("refresh-token-as-access", _as(lambda w: w.alice.refresh_token), 401, ErrorCode.TOKEN_INVALID),
    Case("unknown-api-key", _as("vx_not_a_key_anyone_was_given"), 401, ErrorCode.TOKEN_INVALID),
)


@pytest.mark.parametrize("case", AUTH)
def test_bad_credentials_create_nothing(world, case):
    run_case(world, case, SAMPLES)


# ---- other users' ids: bob reaches none of alice's things, and changes none


def _bob(method: str, path: str, **kwargs: Any) -> Callable[[World], Any]:
    return lambda w: getattr(w.bob, method)(path.format(**w.ids), **kwargs)


FOREIGN = params(
    *(
        Case(name, send, 404, NF, listing=listing)
        for name, listing, send in (
            ("bob-reads-job", JOBS, _bob("get", "/api/v1/job/{job}")),
            ("bob-cancels-job-patch", JOBS, _bob("patch", "/api/v1/job/{job}", json={"status": "cancelled"})),
            ("bob-cancels-job-post", JOBS, _bob("post", "/api/v1/job/{job}/cancel")),
            ("bob-edits-job", JOBS, _bob("put", "/api/v1/job/{job}", json={"speed": 1.5})),
            ("bob-deletes-job", JOBS, _bob("delete", "/api/v1/job/{job}")),
            ("bob-follows-job-progress", JOBS, _bob("get", "/api/v1/job/{job}/progress")),
            ("bob-downloads-output", JOBS, _bob("get", "/api/v1/file/synthesis/{done_job}")),
            ("bob-deletes-output", JOBS, _bob("delete", "/api/v1/file/synthesis/{done_job}")),
            (
                "bob-uses-alices-voice",
                JOBS,
                lambda w: w.bob.post("/api/v1/job", json={"text_content": "hi", "voice_model_id": w["voice"]}),
            ),
            ("bob-reads-sample", SAMPLES, _bob("get", "/api/v1/voice/samples/{sample}")),
            ("bob-deletes-sample", SAMPLES, _bob("delete", "/api/v1/voice/samples/{sample}")),
            ("bob-reprocesses-sample", SAMPLES, _bob("post", "/api/v1/voice/samples/{uploaded_sample}/process")),
            ("bob-deletes-sample-via-library", SAMPLES, _bob("delete", "/api/v1/library/sample/{sample}")),
            ("bob-downloads-sample-via-library", SAMPLES, _bob("get", "/api/v1/library/sample/{sample}/download")),
            (
                "bob-clones-alices-sample",
                CLONES,
                lambda w: w.bob.post(
                    "/api/v1/voice/clones",
                    json={"sample_ids": [w["sample"]], "name": "x", "ref_text": "hi", "consent": True},
                ),
            ),
            ("bob-reads-clone", CLONES, _bob("get", "/api/v1/voice/clones/{voice}")),
            ("bob-deletes-clone", CLONES, _bob("delete", "/api/v1/voice/clones/{voice}")),
            ("bob-selects-clone", PROFILE, _bob("post", "/api/v1/voice/clones/{voice}/select")),
            (
                "bob-synthesizes-with-clone",
                JOBS,
                _bob("post", "/api/v1/voice/clones/{voice}/synthesize", json={"text_content": "hi"}),
            ),
            ("bob-searches-by-clone", CLONES, _bob("get", "/api/v1/voice/clones/{voice}/similar")),
            ("bob-reads-search", CLONES, _bob("get", "/api/v1/voice/searches/{search}")),
            ("bob-reads-batch", BATCHES, _bob("get", "/api/v1/batches/{batch}")),
            ("bob-reads-webhook", WEBHOOKS, _bob("get", "/api/v1/webhooks/{webhook}")),
            ("bob-deletes-webhook", WEBHOOKS, _bob("delete", "/api/v1/webhooks/{webhook}")),
            ("bob-reads-deliveries", WEBHOOKS, _bob("get", "/api/v1/webhooks/{webhook}/deliveries")),
        )
    )
)


@pytest.mark.parametrize("case", FOREIGN)
def test_other_users_ids_are_not_found(world, case):
    run_case(world, case, JOBS)


# ---- voices in the wrong state, or asked for the wrong thing


def _clone(**fields: Any) -> Callable[[World], Any]:
    """alice asks for a clone of her ready sample (unless `sample_ids` says otherwise)."""

    def send(w: World) -> Any:
        body = {"name": "Narrator 2", "ref_text": "hello there", "consent": True, "sample_ids": [w["sample"]]}
        return w.alice.post(CLONES, json={**body, **{k: v(w) if callable(v) else v for k, v in fields.items()}})

    return send


VOICE_RULES = params(
    Case("clone-without-consent", _clone(consent=False), 400, ErrorCode.CONSENT_REQUIRED),
    Case("clone-consent-null", _clone(consent=None), 400, V),
    Case(
        "clone-sample-not-ready",
        _clone(sample_ids=lambda w: [w["sample"], w["uploaded_sample"]]),
        400,
        ErrorCode.SAMPLE_NOT_READY,
    ),
    Case(
        "clone-sample-still-uploading",
        _clone(sample_ids=lambda w: [w["uploading_sample"]]),
        400,
        ErrorCode.SAMPLE_NOT_READY,
    ),
    Case("clone-unknown-sample", _clone(sample_ids=["smp_unknown"]), 404, NF),
    Case("clone-no-samples", _clone(sample_ids=[]), 400, V),
    Case("clone-eleven-samples", _clone(sample_ids=lambda w: [w["sample"]] * 11), 400, V),
    Case("clone-ref-text-too-long", _clone(ref_text="x" * 1001), 400, V),
    Case(
        "reprocess-uploading-sample",
        lambda w: w.alice.post(f"{SAMPLES}/{w['uploading_sample']}/process"),
        400,
        ErrorCode.INVALID_STATE,
        listing=SAMPLES,
    ),
    Case(
        "select-processing-clone",
        lambda w: w.alice.post(f"{CLONES}/{w['processing_clone']}/select"),
        400,
        ErrorCode.VOICE_NOT_READY,
        listing=PROFILE,
    ),
    Case(
        "select-clone-under-review",
        lambda w: w.alice.post(f"{CLONES}/{w['review_clone']}/select"),
        409,
        ErrorCode.VOICE_UNDER_REVIEW,
        listing=PROFILE,
    ),
    Case("select-unknown-clone", lambda w: w.alice.post(f"{CLONES}/vox_unknown/select"), 404, NF, listing=PROFILE),
    Case("similar-unknown-clone", lambda w: w.alice.get(f"{CLONES}/vox_unknown/similar"), 404, NF),
)


@pytest.mark.parametrize("case", VOICE_RULES)
def test_voice_rules_are_enforced(world, case):
    run_case(world, case, CLONES)


# ---- jobs: unknown or unusable voices, and jobs in the wrong state

JOB_RULES = params(
    Case("job-unknown-voice", lambda w: job(w, text_content="hi", voice_model_id="vox_unknown"), 404, NF),
    Case(
        "job-block-unknown-voice", lambda w: job(w, blocks=[{"text": "hi", "voice_model_id": "vox_unknown"}]), 404, NF
    ),
    Case(
        "job-with-processing-clone",
        lambda w: job(w, text_content="hi", voice_model_id=w["processing_clone"]),
        400,
        ErrorCode.VOICE_NOT_READY,
    ),
    Case(
        "job-with-clone-under-review",
        lambda w: job(w, text_content="hi", voice_model_id=w["review_clone"]),
        409,
        ErrorCode.VOICE_UNDER_REVIEW,
    ),
    Case(
        "job-without-active-voice",
        lambda w: w.alice.post(JOBS, json={"text_content": "hi"}),
        400,
        ErrorCode.NO_ACTIVE_VOICE,
    ),
    Case(
        "synthesize-unknown-clone",
        lambda w: w.alice.post(f"{CLONES}/vox_unknown/synthesize", json={"text_content": "hi"}),
        404,
        NF,
    ),
    Case(
        "synthesize-processing-clone",
        lambda w: w.alice.post(f"{CLONES}/{w['processing_clone']}/synthesize", json={"text_content": "hi"}),
        400,
        ErrorCode.VOICE_NOT_READY,
    ),
    Case(
        "openai-unknown-voice",
        lambda w: w.alice.post("/v1/audio/speech", json={"input": "hi", "voice": "Nobody"}),
        404,
        NF,
    ),
    Case(
        "cancel-completed-job", lambda w: w.alice.post(f"{JOBS}/{w['done_job']}/cancel"), 400, ErrorCode.INVALID_STATE
    ),
    Case(
        "edit-completed-job",
        lambda w: w.alice.patch(f"{JOBS}/{w['done_job']}", json={"speed": 1.2}),
        409,
        ErrorCode.JOB_NOT_EDITABLE,
    ),
    Case(
        "delete-processing-job",
        lambda w: w.alice.delete(f"{JOBS}/{w['processing_job']}"),
        409,
        ErrorCode.JOB_PROCESSING,
    ),
    Case(
        "download-pending-output",
        lambda w: w.alice.get(f"/api/v1/file/synthesis/{w['job']}"),
        409,
        ErrorCode.OUTPUT_NOT_READY,
    ),
    Case("missing-block", lambda w: w.alice.get(f"/api/v1/file/synthesis/{w['done_job']}/blocks/1"), 404, NF),
)


@pytest.mark.parametrize("case", JOB_RULES)
def test_job_rules_are_enforced(world, case):
    run_case(world, case, JOBS)


# ---- webhooks: https only (plain http to loopback on a local stack), known events


def _webhook(url: str, **fields: Any) -> Callable[[World], Any]:
    return lambda w: w.alice.post(WEBHOOKS, json={"url": url, **fields})


WEBHOOK_CASES = params(
    Case("webhook-plain-http", _webhook("http://example.com"), 400, V),
    Case("webhook-ftp", _webhook("ftp://x"), 400, V),
    Case("webhook-not-a-url", _webhook("not a url"), 400, V),
    Case("webhook-http-metadata-ip", _webhook("http://169.254.169.254/latest/meta-data"), 400, V),
    Case("webhook-https-metadata-ip", _webhook("https://169.254.169.254/latest/meta-data"), 400, V),
    Case("webhook-https-private-ip", _webhook("https://10.0.0.1/hook"), 400, V),
    Case("webhook-https-loopback", _webhook("https://127.0.0.1/hook"), 400, V),
    Case("webhook-unknown-event", _webhook("https://example.com/h", events=["Everything"]), 400, V),
    Case("webhook-no-events", _webhook("https://example.com/h", events=[]), 400, V),
    Case("webhook-six-events", _webhook("https://example.com/h", events=["*"] * 6), 400, V),
)


@pytest.mark.parametrize("case", WEBHOOK_CASES)
def test_bad_webhooks_are_not_registered(world, case):
    run_case(world, case, WEBHOOKS)


# ---- edits of a pending job: every refused edit leaves the job exactly as it was


def _pending(**options: Any) -> Callable[[World], None]:
    def prepare(w: World) -> None:
        w.scratch["job_edit"] = w.fresh_job(**options)

    return prepare


def _edit(method: str, body: dict[str, Any]) -> Callable[[World], Any]:
    def send(w: World) -> Any:
        before = JobRepository().get(w["job_edit"])
        response = getattr(w.alice, method)(f"/api/v1/job/{w['job_edit']}", json=body)
        after = JobRepository().get(w["job_edit"])
        assert after == before, f"the refused edit changed the job: {response.status_code} {response.text[:300]}"
        return response

    return send


JOB_EDITS = params(
    Case("edit-status-completed", _edit("patch", {"status": "completed"}), 400, V, prepare=_pending()),
    Case("edit-format-aiff", _edit("patch", {"output_format": "aiff"}), 400, V, prepare=_pending()),
    Case("edit-rate-7", _edit("put", {"sample_rate": 7}), 400, V, prepare=_pending()),
    Case("edit-empty-text", _edit("put", {"text_content": ""}), 400, V, prepare=_pending()),
    Case(
        "edit-text-over-max", _edit("patch", {"text_content": "x" * (MAX_TEXT_CHARS + 1)}), 400, V, prepare=_pending()
    ),
    Case("edit-unknown-voice", _edit("patch", {"voice_model_id": "vox_unknown"}), 404, NF, prepare=_pending()),
    Case(
        "edit-mp3-job-to-9000-hz",
        _edit("patch", {"sample_rate": 9000}),
        400,
        V,
        prepare=_pending(output_format="mp3", sample_rate=24000),
    ),
    Case(
        "edit-9000-hz-job-to-mp3",
        _edit("patch", {"output_format": "mp3"}),
        400,
        V,
        prepare=_pending(output_format="wav", sample_rate=9000),
    ),
    Case("edit-language-null", _edit("patch", {"text_language": None}), 400, V, prepare=_pending()),
    Case("edit-speed-null", _edit("put", {"speed": None}), 400, V, prepare=_pending()),
    Case("edit-format-null", _edit("patch", {"output_format": None}), 400, V, prepare=_pending()),
)


@pytest.mark.parametrize("case", JOB_EDITS)
def test_refused_job_edits_leave_the_job_alone(world, case):
    run_case(world, case, JOBS)


# ---- inputs that are odd but legitimate: accepted, stored verbatim, keys from ids only


def test_odd_but_valid_names_are_kept_verbatim_and_never_reach_s3_keys(world):
    world.baseline = None  # this test writes; no case may start from what it saw before
    before = set(objects(world.endpoint, world.bucket, "samples/"))
    names = [TRAVERSAL, f"right{INVISIBLE}left \u05e9\u05dc\u05d5\u05dd", "..\\..\\windows\\system32"]
    for name in names:
        created = upload(world.alice, wav_bytes(0.2), name=name, filename=name)
        assert created.status_code == 201, created.text
        sample = created.json()["data"]
        assert sample["name"] == name
        assert world.alice.get(f"/api/v1/voice/samples/{sample['sample_id']}").json()["data"]["name"] == name
        assert sample["original_key"] == f"samples/{world.alice.user_id}/{sample['sample_id']}/original.wav"
        new = set(objects(world.endpoint, world.bucket, "samples/")) - before
        assert new == {sample["original_key"]}
        assert world.alice.delete(f"/api/v1/voice/samples/{sample['sample_id']}").status_code == 200
        assert set(objects(world.endpoint, world.bucket, "samples/")) == before
    far = world.alice.get("/api/v1/job", params={"offset": 10**30})
    assert far.status_code == 200 and far.json()["data"] == []
    assert SampleRepository().get(world["sample"]).status == "ready"
