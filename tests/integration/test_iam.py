"""IAM is enforced in the emulator, from template.yaml: every component runs with exactly the
policies its role has there, a call outside them is refused as AWS refuses it, and what the
components do needs nothing the template does not grant."""

import json
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime

import boto3
import httpx
import numpy as np
import pytest
from botocore.exceptions import ClientError

from infra.local.event_sources import EventSourcePoller, client_as
from tests.fixtures.api import wav_bytes
from tests.fixtures.voices import processed_voice, ready_clone
from tests.fixtures.worker import WorkerHarness
from voxify.aws import acting_as
from voxify.domain.jobs import JobStatus
from voxify.logic.recovery import sweep_stale_jobs
from voxify.queue import WorkMessage
from voxify.repositories.jobs import JobRepository
from voxify.repositories.usage import UsageRepository
from voxify_worker.embeddings.encoder import EMBEDDING_SIZE
from voxify_worker.embeddings.index import VoiceIndex

DENIED = ("AccessDenied", "AccessDeniedException")


def aws_as(credentials, endpoint, service):
    """A client of the emulator that calls with `credentials` (a component's role session)."""
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=credentials.access_key_id,
        aws_secret_access_key=credentials.secret_access_key,
        aws_session_token=credentials.session_token,
    )


def operator(endpoint, service):
    """The operator (the stack's fake credentials): the account's root, never refused."""
    return boto3.client(service, endpoint_url=endpoint)


def refused(call, *args, **kwargs):
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    assert caught.value.response["Error"]["Code"] in DENIED, caught.value.response["Error"]
    return caught.value


def role(resources, component):
    return resources.principals[component]


def today():
    return datetime.now(UTC).strftime("%Y-%m-%d")


def test_each_component_has_exactly_its_template_role(stack, emulator_endpoint):
    bootstrap, resources = stack
    iam = operator(emulator_endpoint, "iam")
    specs = bootstrap.role_specs()
    functions = {m.function for m in [*resources.mappings, *resources.streams, *resources.schedules]}
    assert {s.component for s in specs} == functions | {
        resources.http_function,
        resources.worker_task,
        *resources.url_functions,
    }
    for spec in specs:
        name = resources.roles[spec.component]
        assert set(iam.list_role_policies(RoleName=name)["PolicyNames"]) == set(spec.policies)
        for policy, document in spec.policies.items():
            assert iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"] == document
    api = {s.component: s for s in specs}[resources.http_function].policies
    # SAM's policy templates are expanded, parameters resolved to the local resources
    sends = [st for doc in api.values() for st in doc["Statement"] if st["Action"] == ["sqs:SendMessage*"]]
    assert {st["Resource"] for st in sends} == {
        "arn:aws:sqs:us-east-1:123456789012:voxify-local-jobs",
        "arn:aws:sqs:us-east-1:123456789012:voxify-local-uploads",
    }
    # and SAM's implicit policies come along (the SQS poller policy of SQS-triggered functions)
    assert "AWSLambdaSQSQueueExecutionRole" in {s.component: s for s in specs}["DlqFunction"].policies


def test_credentials_nobody_issued_are_refused(stack, emulator_endpoint):
    sqs = boto3.client(
        "sqs",
        endpoint_url=emulator_endpoint,
        region_name="us-east-1",
        aws_access_key_id="AKIAUNKNOWNUNKNOWN00",
        aws_secret_access_key="x",
    )
    with pytest.raises(ClientError) as caught:
        sqs.list_queues()
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_calls_outside_a_role_are_refused(stack, emulator_endpoint):
    _, resources = stack
    env = resources.environment
    bucket, jobs_queue = env["VOXIFY_AUDIO_BUCKET"], env["VOXIFY_JOBS_QUEUE_URL"]
    api, worker = role(resources, resources.http_function), role(resources, resources.worker_task)

    # the API queues work but never takes it
    aws_as(api, emulator_endpoint, "sqs").send_message(QueueUrl=jobs_queue, MessageBody="{}")
    refused(aws_as(api, emulator_endpoint, "sqs").receive_message, QueueUrl=jobs_queue)

    # the worker writes only the prefixes it owns; the model store is read-only to it
    s3 = aws_as(worker, emulator_endpoint, "s3")
    s3.put_object(Bucket=bucket, Key="outputs/u1/job_1/attempt-1/audio.wav", Body=b"audio")
    refused(s3.put_object, Bucket=bucket, Key="dropbox/u1/lines.txt", Body=b"hello")
    refused(s3.put_object, Bucket=bucket, Key="models/f5tts/model.safetensors", Body=b"weights")
    operator(emulator_endpoint, "s3").put_object(Bucket=bucket, Key="models/f5tts/vocab.txt", Body=b"a b c")
    assert s3.get_object(Bucket=bucket, Key="models/f5tts/vocab.txt")["Body"].read() == b"a b c"
    refused(s3.get_object, Bucket=bucket, Key="dropbox/u1/lines.txt")

    # and only the item types it owns (dynamodb:LeadingKeys)
    dynamodb = aws_as(worker, emulator_endpoint, "dynamodb")
    table = env["VOXIFY_TABLE_NAME"]
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "WORKER#w1"}, "sk": {"S": "HEARTBEAT"}})
    refused(dynamodb.put_item, TableName=table, Item={"pk": {"S": "USER#u1"}, "sk": {"S": "PROFILE"}})
    refused(
        dynamodb.update_item,
        TableName=env["VOXIFY_RATE_LIMIT_TABLE_NAME"],
        Key={"pk": {"S": "QUOTA#u1#job#2026-01-01"}},
        UpdateExpression="ADD used :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
    )

    # a function reaches only what its role names
    dlq = role(resources, "DlqFunction")
    refused(aws_as(dlq, emulator_endpoint, "secretsmanager").get_secret_value, SecretId=env["VOXIFY_JWT_SECRET_ARN"])
    refused(aws_as(dlq, emulator_endpoint, "s3").get_object, Bucket=bucket, Key="models/f5tts/vocab.txt")
    refused(
        aws_as(worker, emulator_endpoint, "ses").send_email,
        Source=env["VOXIFY_SENDER_EMAIL"],
        Destination={"ToAddresses": ["someone@example.com"]},
        Message={"Subject": {"Data": "hi"}, "Body": {"Text": {"Data": "hi"}}},
    )
    refused(
        aws_as(worker, emulator_endpoint, "events").put_events,
        Entries=[{"Source": "voxify", "DetailType": "x", "Detail": "{}", "EventBusName": "default"}],
    )


def test_presigned_requests_are_allowed_or_refused_as_their_signer(stack, emulator_endpoint):
    _, resources = stack
    bucket = resources.environment["VOXIFY_AUDIO_BUCKET"]
    api = aws_as(role(resources, resources.http_function), emulator_endpoint, "s3")
    worker = aws_as(role(resources, resources.worker_task), emulator_endpoint, "s3")

    def put(url):
        try:
            return urllib.request.urlopen(urllib.request.Request(url, data=b"bytes", method="PUT")).status
        except urllib.error.HTTPError as error:
            return error.code

    assert put(api.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "uploads/u1/s1"})) == 200
    assert put(worker.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "dropbox/u1/x"})) == 403

    def post(form):  # a browser's upload form: the key is a form field
        return httpx.post(form["url"], data=form["fields"], files={"file": ("x", b"bytes")}, timeout=10).status_code

    assert post(worker.generate_presigned_post(bucket, "outputs/u1/job_1/attempt-1/audio.wav")) == 204
    assert post(worker.generate_presigned_post(bucket, "dropbox/u1/lines.txt")) == 403


def test_deleting_a_sample_needs_the_version_permissions_the_template_grants(stack, alice, emulator_endpoint):
    _, resources = stack
    bucket = resources.environment["VOXIFY_AUDIO_BUCKET"]
    s3, iam = operator(emulator_endpoint, "s3"), operator(emulator_endpoint, "iam")

    def versions():
        listing = s3.list_object_versions(Bucket=bucket, Prefix=f"samples/{alice.user_id}/")
        return listing.get("Versions", []) + listing.get("DeleteMarkers", [])

    def new_sample(name):
        files = {"file": ("v.wav", wav_bytes(), "audio/wav")}
        return alice.post("/api/v1/voice/samples", files=files, data={"name": name}).json()["data"]["sample_id"]

    sample = new_sample("a")
    assert versions()
    assert alice.delete(f"/api/v1/voice/samples/{sample}").is_success
    assert versions() == []  # every version, not just a delete marker

    # without the statements the template adds to S3CrudPolicy, the same DELETE fails as it
    # did on AWS (the TestClient raises what the app answers 500 for)
    name = resources.roles[resources.http_function]
    for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"]
        if "s3:ListBucketVersions" in json.dumps(document):
            iam.delete_role_policy(RoleName=name, PolicyName=policy)
    error = refused(alice.delete, f"/api/v1/voice/samples/{new_sample('b')}")
    assert error.operation_name == "ListObjectVersions"


def test_the_api_reads_both_queue_depths(alice):
    info = alice.get("/api/v1/voice/info")
    assert info.status_code == 200, info.text


def invoke(resources, function, endpoint, queue_suffix=""):
    """One batch of `function`'s queue, polled and handled with the function's role; what
    the function did not settle is left on the queue."""
    mapping = next(m for m in resources.mappings if m.function == function and m.queue_url.endswith(queue_suffix))
    sqs = client_as(operator(endpoint, "sqs"), mapping.credentials)
    poller = EventSourcePoller(mapping, sqs, "us-east-1", "123456789012", threading.Event())
    batch = poller.gather_batch()
    assert batch, f"nothing arrived for {function}"
    poller.invoke(batch)
    time.sleep(0.1)
    attributes = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    left = operator(endpoint, "sqs").get_queue_attributes(QueueUrl=mapping.queue_url, AttributeNames=attributes)
    return sum(int(count) for count in left["Attributes"].values())


def test_the_drop_folder_function_takes_daily_quotas(stack, alice, emulator_endpoint):
    _, resources = stack
    voice = ready_clone(alice)
    lines = "".join(json.dumps({"text": f"Line {i}.", "voice_id": voice}) + "\n" for i in (1, 2))
    operator(emulator_endpoint, "s3").put_object(
        Bucket=resources.environment["VOXIFY_AUDIO_BUCKET"], Key=f"dropbox/{alice.user_id}/two.jsonl", Body=lines
    )
    assert invoke(resources, "DropfolderFunction", emulator_endpoint) == 0
    assert UsageRepository().quota_used(alice.user_id, "job", today()) == 2
    assert {j.source for j in JobRepository().list_for(alice.user_id)} == {"dropfolder"}


def test_the_ingest_function_takes_quotas_and_reads_access_tokens(stack, alice, emulator_endpoint):
    _, resources = stack
    voice = ready_clone(alice)
    operator(emulator_endpoint, "events").put_events(
        Entries=[
            {
                "Source": "integration.test",
                "DetailType": "Synthesis Requested",
                "EventBusName": resources.environment["VOXIFY_EVENT_BUS_NAME"],
                "Detail": json.dumps({"api_key": alice.access_token, "text": "From the bus.", "voice_id": voice}),
            }
        ]
    )
    assert invoke(resources, "IngestFunction", emulator_endpoint) == 0
    [job] = JobRepository().list_for(alice.user_id)
    assert job.source == "event" and job.status == JobStatus.PENDING
    assert UsageRepository().quota_used(alice.user_id, "job", today()) == 1


def test_the_dlq_function_refunds_and_reports_with_its_role(stack, alice, emulator_endpoint):
    _, resources = stack
    sqs, env = operator(emulator_endpoint, "sqs"), resources.environment
    voice = ready_clone(alice)
    job = alice.post("/api/v1/job", json={"text_content": "Doomed.", "voice_model_id": voice}).json()["data"]
    used = UsageRepository().quota_used(alice.user_id, "job", today())
    dead_job = WorkMessage(kind="synthesis", id=job["job_id"], user_id=alice.user_id).model_dump_json()
    sqs.send_message(QueueUrl=env["VOXIFY_JOBS_QUEUE_URL"] + "-dlq", MessageBody=dead_job)
    assert invoke(resources, "DlqFunction", emulator_endpoint, "-jobs-dlq") == 0
    assert JobRepository().get(job["job_id"]).status == JobStatus.FAILED
    assert UsageRepository().quota_used(alice.user_id, "job", today()) == used - 1  # refunded

    key = f"dropbox/{alice.user_id}/never.txt"
    notification = {"Records": [{"s3": {"bucket": {"name": "b"}, "object": {"key": key, "eTag": "e"}}}]}
    ingest_dlq = sqs.get_queue_url(QueueName="voxify-local-ingest-dlq")["QueueUrl"]
    sqs.send_message(QueueUrl=ingest_dlq, MessageBody=json.dumps(notification))
    assert invoke(resources, "DlqFunction", emulator_endpoint, "-ingest-dlq") == 0
    report = operator(emulator_endpoint, "s3").get_object(Bucket=env["VOXIFY_AUDIO_BUCKET"], Key=f"{key}.error.json")
    assert json.loads(report["Body"].read())["error"]["code"] == "RETRIES_EXHAUSTED"


def test_the_worker_does_its_work_with_its_role(stack, alice, engine):
    worker = WorkerHarness(engine)
    voice = processed_voice(alice, worker)  # upload moved, embedded, clone checked
    job = alice.post("/api/v1/job", json={"text_content": "Least privilege.", "voice_model_id": voice}).json()["data"]
    assert worker.drain() == 1
    done = alice.get(f"/api/v1/job/{job['job_id']}").json()["data"]
    assert done["status"] == "completed", done

    # its recovery sweep queues a job whose worker vanished again (sqs:SendMessage)
    jobs = JobRepository()
    second = alice.post("/api/v1/job", json={"text_content": "Stranded.", "voice_model_id": voice}).json()["data"]
    assert jobs.claim(second["job_id"], "vanished-worker", lease_seconds=60) is not None
    jobs.update_fields(second["job_id"], {"claim_expires": 0}, only_in=[JobStatus.PROCESSING])  # its lease ran out
    with acting_as(worker.credentials):
        assert sweep_stale_jobs() == 1
    assert worker.drain() == 2  # the original message and the requeued one: one synthesis
    assert jobs.get(second["job_id"]).status == JobStatus.COMPLETED


def test_the_voice_index_reaches_s3_as_the_role_its_caller_acts_as(stack):
    """LanceDB has its own S3 client: it must carry the role, not the process's credentials."""
    _, resources = stack
    vector = np.ones(EMBEDDING_SIZE, dtype=np.float32)
    without_s3 = role(resources, "WebhooksFunction")
    with acting_as(without_s3), pytest.raises(Exception, match="(?i)forbidden|denied|403"):
        VoiceIndex().upsert("vox_1", "usr_1", "clone", "Mine", "resemblyzer", vector)
    with acting_as(role(resources, resources.worker_task)):
        index = VoiceIndex()
        index.upsert("vox_1", "usr_1", "clone", "Mine", "resemblyzer", vector)
        assert index.vector("vox_1") is not None
