"""Every emulated resource of template.yaml exists in the emulator, configured as declared."""

import json
import time
from urllib.parse import unquote_plus

import boto3

from infra.local.bootstrap import EMULATED_TYPES
from infra.local.template import load_template


def clients(endpoint):
    return lambda service: boto3.client(service, endpoint_url=endpoint)


def test_every_emulated_resource_of_the_template_exists(stack, emulator_endpoint):
    bootstrap, resources = stack
    aws = clients(emulator_endpoint)
    declared = {n for n, b in load_template()["Resources"].items() if b["Type"] in EMULATED_TYPES}
    assert declared == set(resources.created)

    tables = set(aws("dynamodb").list_tables()["TableNames"])
    assert set(resources.names_of("AWS::DynamoDB::Table")) <= tables
    buckets = {b["Name"] for b in aws("s3").list_buckets()["Buckets"]}
    assert set(resources.names_of("AWS::S3::Bucket")) <= buckets
    queues = {url.rsplit("/", 1)[1] for url in aws("sqs").list_queues()["QueueUrls"]}
    assert set(resources.names_of("AWS::SQS::Queue")) <= queues
    buses = {b["Name"] for b in aws("events").list_event_buses()["EventBuses"]}
    assert set(resources.names_of("AWS::Events::EventBus")) <= buses
    secrets = {s["Name"] for s in aws("secretsmanager").list_secrets()["SecretList"]}
    assert set(resources.names_of("AWS::SecretsManager::Secret")) <= secrets
    # what is not emulated is reported, not silently dropped
    assert resources.cloud_only["WorkerTaskDefinition"] == "AWS::ECS::TaskDefinition"


def test_data_table_has_indexes_stream_and_ttl(stack, emulator_endpoint):
    _, resources = stack
    dynamodb = clients(emulator_endpoint)("dynamodb")
    table = dynamodb.describe_table(TableName=resources.environment["VOXIFY_TABLE_NAME"])["Table"]
    assert {i["IndexName"] for i in table["GlobalSecondaryIndexes"]} == {"gsi1", "gsi2"}
    assert table["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    ttl = dynamodb.describe_time_to_live(TableName=table["TableName"])["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "expires_at"


def test_queues_redrive_to_their_dead_letter_queues(stack, emulator_endpoint):
    _, resources = stack
    sqs = clients(emulator_endpoint)("sqs")
    url = resources.environment["VOXIFY_JOBS_QUEUE_URL"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"].endswith(":voxify-local-jobs-dlq")
    assert int(redrive["maxReceiveCount"]) == 5
    assert attributes["VisibilityTimeout"] == "300"


def test_bucket_is_versioned_encrypted_private(stack, emulator_endpoint):
    _, resources = stack
    s3 = clients(emulator_endpoint)("s3")
    bucket = resources.environment["VOXIFY_AUDIO_BUCKET"]
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values())


def receive(sqs, url, wait=5):
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", [])
        for message in messages:
            body = json.loads(message["Body"])
            if body.get("Event") != "s3:TestEvent":
                return body
    return None


def test_dropbox_objects_notify_the_ingest_queue_and_other_prefixes_do_not(stack, emulator_endpoint):
    _, resources = stack
    aws = clients(emulator_endpoint)
    bucket = resources.environment["VOXIFY_AUDIO_BUCKET"]
    ingest_url = aws("sqs").get_queue_url(QueueName="voxify-local-ingest")["QueueUrl"]
    aws("s3").put_object(Bucket=bucket, Key="outputs/u1/x.wav", Body=b"x")
    aws("s3").put_object(Bucket=bucket, Key="dropbox/u1/my list.txt", Body=b"hello")
    body = receive(aws("sqs"), ingest_url)
    assert body is not None
    keys = [record["s3"]["object"]["key"] for record in body["Records"]]
    assert "+" in keys[0]  # keys arrive quote_plus-encoded, as on AWS
    assert [unquote_plus(key) for key in keys] == ["dropbox/u1/my list.txt"]


def test_synthesis_requested_events_reach_the_inbound_queue(stack, emulator_endpoint):
    _, resources = stack
    aws = clients(emulator_endpoint)
    aws("events").put_events(
        Entries=[
            {
                "Source": "partner.app",
                "DetailType": "Synthesis Requested",
                "Detail": json.dumps({"text": "hi"}),
                "EventBusName": resources.environment["VOXIFY_EVENT_BUS_NAME"],
            },
            {
                "Source": "partner.app",
                "DetailType": "Something Else",
                "Detail": "{}",
                "EventBusName": resources.environment["VOXIFY_EVENT_BUS_NAME"],
            },
        ]
    )
    url = aws("sqs").get_queue_url(QueueName="voxify-local-inbound-events")["QueueUrl"]
    body = receive(aws("sqs"), url)
    assert body["detail-type"] == "Synthesis Requested"
    assert body["detail"] == {"text": "hi"}
    assert receive(aws("sqs"), url, wait=1) is None


def test_bootstrap_is_idempotent_and_keeps_the_secret(stack, emulator_endpoint):
    bootstrap, resources = stack
    secrets = clients(emulator_endpoint)("secretsmanager")
    name = resources.names_of("AWS::SecretsManager::Secret")[0]
    before = secrets.get_secret_value(SecretId=name)["SecretString"]
    again = bootstrap.create()
    assert again.created == resources.created
    assert secrets.get_secret_value(SecretId=name)["SecretString"] == before
    assert len(before) == 64
