"""`make up`: the stack starts, serves /health and /docs, holds the template's resources,
and keeps its data across a restart."""

import json
import urllib.request

import pytest

from tests.fixtures.aws import moto_server
from tests.fixtures.local_stack import LocalStackProcess, aws, emulator_client, poll

pytestmark = pytest.mark.e2e


def get(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read()


def test_up_serves_the_api_and_keeps_data_across_restart(tmp_path):
    data_dir = tmp_path / "data"
    stack = LocalStackProcess(data_dir).start()
    try:
        status, body = get(f"{stack.api}/health")
        assert status == 200 and json.loads(body)["data"]["status"] == "ok"
        status, body = get(f"{stack.api}/docs")
        assert status == 200 and b"swagger" in body.lower()
        assert "voxify-local-jobs" in stack.output()
        assert f"Studio         {stack.api}/studio/" in stack.output()
        assert "voxify-local-recovery" in stack.output() and "every 60s" in stack.output()
        status, body = get(f"{stack.api}/studio/")
        assert status == 200 and b"Voxify Studio" in body

        tables = aws(stack, "dynamodb").list_tables()["TableNames"]
        assert {"voxify-local-data", "voxify-local-idempotency", "voxify-local-rate-limits"} <= set(tables)
        aws(stack, "dynamodb").put_item(
            TableName="voxify-local-data", Item={"pk": {"S": "USER#kept"}, "sk": {"S": "PROFILE"}}
        )
        aws(stack, "s3").put_object(
            Bucket="voxify-local-audio-123456789012", Key="samples/kept/s1/original", Body=b"voice"
        )
        secret = aws(stack, "secretsmanager").get_secret_value(SecretId="voxify/local/jwt-signing-key")["SecretString"]
    finally:
        assert stack.stop() == 0, stack.output()
    assert "data saved under" in stack.output()

    again = LocalStackProcess(data_dir).start()
    try:
        item = aws(again, "dynamodb").get_item(
            TableName="voxify-local-data", Key={"pk": {"S": "USER#kept"}, "sk": {"S": "PROFILE"}}
        )
        assert "Item" in item
        body = (
            aws(again, "s3")
            .get_object(Bucket="voxify-local-audio-123456789012", Key="samples/kept/s1/original")["Body"]
            .read()
        )
        assert body == b"voice"
        assert (
            aws(again, "secretsmanager").get_secret_value(SecretId="voxify/local/jwt-signing-key")["SecretString"]
            == secret
        )
        # the worker beats its heartbeat into the restored table
        poll(
            lambda: aws(again, "dynamodb").scan(TableName="voxify-local-data")["Items"],
            lambda items: any(i["pk"]["S"].startswith("WORKER#") for i in items),
            timeout=60,
        )
    finally:
        assert again.stop() == 0, again.output()


def test_up_uses_an_emulator_that_aws_endpoint_url_names(tmp_path):
    with moto_server() as external:
        stack = LocalStackProcess(
            tmp_path / "data",
            env={
                "AWS_ENDPOINT_URL": external,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_DEFAULT_REGION": "us-east-1",
            },
        ).start()
        try:
            assert f"AWS emulator   {external}   (external)" in stack.output()
            queues = emulator_client(external, "sqs").list_queues()["QueueUrls"]
            assert any(url.endswith("/voxify-local-jobs") for url in queues)
        finally:
            assert stack.stop() == 0, stack.output()
