"""AWS limits the emulator would let pass, honoured: DynamoDB's 400 KB item, Lambda's 6 MB
request and response payloads, S3's 1,000 keys per delete. Each at the limit and just over."""

import json

import boto3
import pytest

from tests.fixtures.engines import WordClockEngine
from tests.fixtures.jobs import complete
from tests.fixtures.voices import ready_clone
from tests.fixtures.worker import WorkerHarness
from voxify.domain.jobs import MAX_TEXT_CHARS
from voxify.logic.files import INLINE_LIMIT_BYTES
from voxify.repositories.jobs import JobRepository
from voxify.settings import get_settings
from voxify.storage import AudioStore, IncompleteDeletion
from voxify_worker.work.synthesis import INLINE_TIMESTAMPS_BYTES

ITEM_LIMIT_BYTES = 400 * 1024
LAMBDA_PAYLOAD_BYTES = 6 * 1000 * 1000


def item_size(emulator_endpoint: str, job_id: str) -> int:
    """The stored item's size, roughly as DynamoDB counts it (names plus values)."""
    table = boto3.resource("dynamodb", endpoint_url=emulator_endpoint).Table(get_settings().table_name)
    item = table.get_item(Key={"pk": f"JOB#{job_id}", "sk": "JOB"})["Item"]
    return len(json.dumps(item, default=str))


@pytest.fixture
def quick_worker(stack):
    return WorkerHarness(WordClockEngine())


def test_twenty_thousand_characters_with_both_granularities_complete(alice, quick_worker, emulator_endpoint):
    voice = ready_clone(alice)
    text = ("a " * (MAX_TEXT_CHARS // 2)).strip()  # 10,000 one-letter words: the worst case for timestamps
    job = alice.post(
        "/api/v1/job",
        json={
            "text_content": text,
            "voice_model_id": voice,
            "config": {"include_timestamps": True, "timestamp_granularity": "both"},
        },
    )
    assert job.status_code == 201, job.text
    job_id = job.json()["data"]["job_id"]
    quick_worker.drain()
    shown = alice.get(f"/api/v1/job/{job_id}").json()["data"]
    assert shown["status"] == "completed", shown
    assert len(shown["timestamps"]["words"]) == 10_000 and len(shown["timestamps"]["syllables"]) == 10_000
    assert item_size(emulator_endpoint, job_id) < ITEM_LIMIT_BYTES
    record = JobRepository().get(job_id)
    assert record.timestamps is None and record.timestamps_key  # kept in S3, not in the item


def test_timestamps_that_fit_stay_in_the_item(alice, quick_worker):
    voice = ready_clone(alice)
    job = alice.post(
        "/api/v1/job",
        json={"text_content": "Short and sweet.", "voice_model_id": voice, "config": {"include_timestamps": True}},
    ).json()["data"]
    quick_worker.drain()
    record = JobRepository().get(job["job_id"])
    assert record.timestamps is not None and record.timestamps_key is None
    assert len(json.dumps(record.timestamps)) <= INLINE_TIMESTAMPS_BYTES


def test_inline_audio_answers_within_the_lambda_response_limit(alice):
    voice = ready_clone(alice)
    at_limit, over = b"RIFF" + bytes(INLINE_LIMIT_BYTES - 4), b"RIFF" + bytes(INLINE_LIMIT_BYTES - 3)
    assert len(at_limit) * 4 / 3 < LAMBDA_PAYLOAD_BYTES  # base64 through API Gateway still fits
    for audio, expected in ((at_limit, 200), (over, 413)):
        job = alice.post("/api/v1/job", json={"text_content": "hi", "voice_model_id": voice}).json()["data"]
        complete(job, audio)
        response = alice.get(f"/api/v1/file/synthesis/{job['job_id']}", params={"inline": 1})
        assert response.status_code == expected
    assert alice.get(f"/api/v1/file/synthesis/{job['job_id']}").status_code == 302  # large files redirect


def test_inline_uploads_fit_the_lambda_request_limit(alice):
    limit = get_settings().max_inline_upload_bytes
    assert limit * 4 / 3 < LAMBDA_PAYLOAD_BYTES  # base64 request body plus the event still fits
    over = b"RIFF" + bytes(limit - 3)
    response = alice.post("/api/v1/voice/samples", files={"file": ("big.wav", over, "audio/wav")}, data={"name": "x"})
    assert response.status_code == 413 and response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"


def test_deleting_more_than_a_thousand_objects_respects_the_per_call_limit(stack):
    store = AudioStore()
    for index in range(1001):
        store.put(f"outputs/usr_x/job_x/attempt-1/{index:04d}.wav", b"x", "audio/wav")
    largest = []

    def count(params, **_):
        largest.append(len(params["Delete"]["Objects"]))

    store._s3.meta.events.register("provide-client-params.s3.DeleteObjects", count)
    try:
        assert store.delete_prefix("outputs/usr_x/job_x/") == 1001
    finally:
        store._s3.meta.events.unregister("provide-client-params.s3.DeleteObjects", count)
    assert max(largest) <= 1000 and sum(largest) == 1001


def test_a_partial_deletion_is_never_reported_as_done(stack, emulator_endpoint):
    """DeleteObjects answers 200 even when it keeps some keys (here: a legal hold)."""
    s3 = boto3.client("s3", endpoint_url=emulator_endpoint)
    s3.create_bucket(Bucket="locked-audio", ObjectLockEnabledForBucket=True)
    store = AudioStore("locked-audio")
    store.put("outputs/usr_x/job_x/attempt-1/free.wav", b"x", "audio/wav")
    store.put("outputs/usr_x/job_x/attempt-1/held.wav", b"x", "audio/wav")
    s3.put_object_legal_hold(
        Bucket="locked-audio", Key="outputs/usr_x/job_x/attempt-1/held.wav", LegalHold={"Status": "ON"}
    )
    with pytest.raises(IncompleteDeletion, match="1 object versions .* not deleted"):
        store.delete_prefix("outputs/usr_x/job_x/")
    left = s3.list_objects_v2(Bucket="locked-audio", Prefix="outputs/")["Contents"]
    assert [o["Key"] for o in left] == ["outputs/usr_x/job_x/attempt-1/held.wav"]
