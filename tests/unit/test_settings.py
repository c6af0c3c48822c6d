from voxify.settings import Settings


def test_settings_come_from_environment(monkeypatch):
    monkeypatch.setenv("VOXIFY_TABLE_NAME", "t1")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    monkeypatch.setenv("VOXIFY_WORKER_CONCURRENCY", "3")
    settings = Settings()
    assert settings.table_name == "t1"
    assert settings.region == "eu-west-1"
    assert settings.aws_endpoint_url == "http://127.0.0.1:4566"
    assert settings.worker_concurrency == 3


def test_real_aws_when_no_endpoint(monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    assert Settings().aws_endpoint_url is None
