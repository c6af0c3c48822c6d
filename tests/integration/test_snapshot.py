"""Local data survives a restart of the emulator: tables, objects, secrets, queued messages."""

import boto3

from infra.local.bootstrap import Bootstrap
from infra.local.snapshot import EmulatorSnapshot
from tests.fixtures.aws import moto_server


def test_state_round_trips_into_a_fresh_emulator(stack, emulator_endpoint, tmp_path):
    _, resources = stack
    env = resources.environment
    aws = lambda service, url=emulator_endpoint: boto3.client(service, endpoint_url=url)  # noqa: E731
    aws("dynamodb").put_item(
        TableName=env["VOXIFY_TABLE_NAME"], Item={"pk": {"S": "USER#1"}, "sk": {"S": "PROFILE"}, "n": {"N": "3"}}
    )
    aws("s3").put_object(
        Bucket=env["VOXIFY_AUDIO_BUCKET"],
        Key="samples/u1/s1/original",
        Body=b"RIFF....",
        ContentType="audio/wav",
        Metadata={"sample-id": "s1"},
    )
    aws("sqs").send_message(QueueUrl=env["VOXIFY_JOBS_QUEUE_URL"], MessageBody='{"id": "j1"}')
    secret_name = resources.names_of("AWS::SecretsManager::Secret")[0]
    secret = aws("secretsmanager").get_secret_value(SecretId=secret_name)["SecretString"]

    session = boto3.session.Session()
    EmulatorSnapshot(tmp_path, session, emulator_endpoint).save(resources, drain_queues=True)
    # a second save copies no unchanged object again
    blobs = sorted((tmp_path / "s3").rglob("objects/*"))
    EmulatorSnapshot(tmp_path, session, emulator_endpoint).save(resources)
    assert sorted((tmp_path / "s3").rglob("objects/*")) == blobs

    with moto_server() as fresh:
        bootstrap = Bootstrap(session, fresh)
        restored_resources = bootstrap.create(notifications=False)
        counts = EmulatorSnapshot(tmp_path, session, fresh).restore(restored_resources)
        bootstrap.apply_notifications(restored_resources)
        assert counts == {"items": 1, "objects": 1, "secrets": 1, "messages": 1}

        item = aws("dynamodb", fresh).get_item(
            TableName=env["VOXIFY_TABLE_NAME"], Key={"pk": {"S": "USER#1"}, "sk": {"S": "PROFILE"}}
        )["Item"]
        assert item["n"] == {"N": "3"}
        obj = aws("s3", fresh).get_object(Bucket=env["VOXIFY_AUDIO_BUCKET"], Key="samples/u1/s1/original")
        assert obj["Body"].read() == b"RIFF...." and obj["ContentType"] == "audio/wav"
        assert obj["Metadata"] == {"sample-id": "s1"}
        assert aws("secretsmanager", fresh).get_secret_value(SecretId=secret_name)["SecretString"] == secret
        queue_url = restored_resources.environment["VOXIFY_JOBS_QUEUE_URL"]
        messages = aws("sqs", fresh).receive_message(QueueUrl=queue_url)["Messages"]
        assert [m["Body"] for m in messages] == ['{"id": "j1"}']
