"""DELETE /api/v1/auth/account: the account and everything it owns leave every store; other
accounts keep theirs."""

import json

import boto3
import lancedb

from tests.fixtures.voices import processed_voice, ready_clone
from voxify.aws import acting_as
from voxify.settings import get_settings
from voxify_worker.embeddings.index import TABLE, storage_options


def everything_mentioning(needles: tuple[str, ...], endpoint: str, environment: dict[str, str]) -> list[str]:
    """Each table item and each S3 object version (any key, any version) naming a needle."""
    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
    found = []
    for variable in ("VOXIFY_TABLE_NAME", "VOXIFY_IDEMPOTENCY_TABLE_NAME", "VOXIFY_RATE_LIMIT_TABLE_NAME"):
        for page in dynamodb.get_paginator("scan").paginate(TableName=environment[variable]):
            found += [json.dumps(item) for item in page["Items"] if any(n in json.dumps(item) for n in needles)]
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=environment["VOXIFY_AUDIO_BUCKET"]):
        for version in page.get("Versions", []) + page.get("DeleteMarkers", []):
            if any(n in version["Key"] for n in needles):
                found.append(version["Key"])
    return found


def test_deleting_an_account_leaves_nothing_in_any_store(alice, bob, worker, stack, emulator_endpoint):
    _, resources = stack
    environment = resources.environment
    voice = processed_voice(alice, worker)
    job = alice.post(
        "/api/v1/job",
        json={"text_content": "Soon forgotten.", "voice_model_id": voice},
        headers={"Idempotency-Key": "k1"},
    ).json()["data"]
    alice.post("/api/v1/webhooks", json={"url": "https://hooks.example.com/voxify"})
    worker.drain()
    assert alice.get(f"/api/v1/job/{job['job_id']}").json()["data"]["status"] == "completed"
    sample = alice.get(f"/api/v1/voice/clones/{voice}").json()["data"]["sample_ids"][0]
    kept = ready_clone(bob)
    needles = (alice.user_id, alice.email)
    assert everything_mentioning(needles, emulator_endpoint, environment)

    key = alice.post("/api/v1/api-keys", json={"name": "eraser"}).json()["data"]["key"]
    by_key = alice.client.delete(
        "/api/v1/auth/account", params={"confirm": alice.email}, headers={"Authorization": f"Bearer {key}"}
    )
    assert by_key.status_code == 403 and by_key.json()["error"]["code"] == "FORBIDDEN"
    wrong = alice.delete("/api/v1/auth/account", params={"confirm": bob.email})
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "VALIDATION_ERROR"
    erased = alice.delete("/api/v1/auth/account", params={"confirm": alice.email.upper()})
    assert erased.status_code == 200, erased.text
    references = worker.synthesis.references._cache
    assert references.get(voice) is not None  # the job's voice, decoded
    worker.drain()  # the voice index and the worker's memory forget the account's voices

    assert everything_mentioning(needles, emulator_endpoint, environment) == []
    assert worker.voices.index.vector(voice) is None and worker.voices.index.vector(sample) is None
    assert references.get(voice) is None
    assert alice.get("/api/v1/auth/profile").status_code == 401
    assert [c["clone_id"] for c in bob.get("/api/v1/voice/clones").json()["data"]] == [kept]
    assert bob.get("/api/v1/auth/profile").json()["data"]["email"] == bob.email


def index_versions_mentioning(needles: tuple[bytes, ...], endpoint: str, bucket: str) -> list[str]:
    """Each object version (current or not) under the voice index's prefix holding a needle."""
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    found = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix="vectors/"):
        for version in page.get("Versions", []):
            body = s3.get_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])["Body"].read()
            found += [f"{version['Key']}@{version['VersionId']}"] if any(n in body for n in needles) else []
    return found


def table_versions_holding(voice_ids: set[str], worker) -> list[int]:
    """The voice index's table versions (each one a reader could check out) holding a voice."""
    settings = get_settings()
    with acting_as(worker.credentials):
        table = lancedb.connect(settings.vector_store_uri, storage_options=storage_options(settings)).open_table(TABLE)
        holding = []
        for version in [int(v["version"]) for v in table.list_versions()]:
            table.checkout(version)
            if voice_ids & set(table.to_arrow().column("voice_id").to_pylist()):
                holding.append(version)
        return holding


def test_deleted_voices_leave_no_trace_in_the_voice_index(alice, worker, stack, emulator_endpoint):
    """A LanceDB delete only marks the row: older table versions (time travel), the data file
    and, on the versioned bucket, noncurrent object versions would all still hold the voice."""
    bucket = stack[1].environment["VOXIFY_AUDIO_BUCKET"]
    clone = processed_voice(alice, worker)
    sample = alice.get(f"/api/v1/voice/clones/{clone}").json()["data"]["sample_ids"][0]
    index = worker.voices.index
    vectors = [index.vector(clone), index.vector(sample)]
    assert all(v is not None for v in vectors)
    needles = (*(v.tobytes()[:64] for v in vectors), clone.encode(), sample.encode())
    assert index_versions_mentioning(needles, emulator_endpoint, bucket)

    assert alice.delete(f"/api/v1/voice/clones/{clone}").status_code == 200
    worker.drain()
    assert index.vector(clone) is None and index.vector(sample) is not None
    assert table_versions_holding({clone}, worker) == []
    assert index_versions_mentioning((clone.encode(),), emulator_endpoint, bucket) == []

    assert alice.delete(f"/api/v1/voice/samples/{sample}").status_code == 200
    worker.drain()
    assert index.vector(sample) is None
    assert table_versions_holding({clone, sample}, worker) == []
    assert index_versions_mentioning(needles, emulator_endpoint, bucket) == []
