import os

import pytest
from pydantic import ValidationError

from voxify.settings import (
    FUNCTION_RESOURCES,
    REQUIRED_RESOURCES,
    ConfigurationError,
    Settings,
    env_name,
)

# What template.yaml sets for a deployed function (Globals) and for the worker (its task
# definition): every function gets all of these, the worker only REQUIRED_RESOURCES.
DEPLOYED = {
    "VOXIFY_TABLE_NAME": "voxify-prod-data",
    "VOXIFY_IDEMPOTENCY_TABLE_NAME": "voxify-prod-idempotency",
    "VOXIFY_RATE_LIMIT_TABLE_NAME": "voxify-prod-rate-limits",
    "VOXIFY_AUDIO_BUCKET": "voxify-prod-audio-123456789012",
    "VOXIFY_JOBS_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/voxify-prod-jobs",
    "VOXIFY_UPLOADS_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/voxify-prod-uploads",
    "VOXIFY_WEBHOOK_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/voxify-prod-webhooks",
    "VOXIFY_EVENT_BUS_NAME": "voxify-prod",
    "VOXIFY_JWT_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:voxify/prod/jwt",
}
WORKER = {env_name(name): DEPLOYED[env_name(name)] for name in REQUIRED_RESOURCES}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """No VOXIFY_ variable from the shell or an earlier test leaks in."""
    for name in list(os.environ):
        if name.startswith("VOXIFY_"):
            monkeypatch.delenv(name)


def set_environment(monkeypatch, variables: dict[str, str]) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)


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


def test_local_stage_needs_nothing_set():
    settings = Settings()
    assert settings.stage == "local"
    assert settings.table_name == "voxify-local-data"
    assert settings.idempotency_table_name == "voxify-local-idempotency"
    assert settings.rate_limit_table_name == "voxify-local-rate-limits"
    assert settings.audio_bucket == "voxify-local-audio-123456789012"
    assert settings.event_bus_name == "voxify-local"
    assert settings.jwt_secret_arn == "voxify/local/jwt-signing-key"
    assert settings.jobs_queue_url == settings.uploads_queue_url == settings.webhook_queue_url == ""


@pytest.mark.parametrize("variable", sorted(WORKER))
def test_deployed_stage_fails_naming_a_missing_variable(monkeypatch, variable):
    set_environment(monkeypatch, {**DEPLOYED, "VOXIFY_STAGE": "prod"})
    monkeypatch.delenv(variable)
    with pytest.raises(ConfigurationError, match=rf"^{variable} is not set \(stage prod\)$"):
        Settings()


def test_deployed_stage_treats_an_empty_variable_as_missing(monkeypatch):
    set_environment(monkeypatch, {**DEPLOYED, "VOXIFY_STAGE": "prod", "VOXIFY_JOBS_QUEUE_URL": ""})
    with pytest.raises(ConfigurationError, match="VOXIFY_JOBS_QUEUE_URL is not set"):
        Settings()


def test_deployed_stage_names_every_missing_variable(monkeypatch):
    monkeypatch.setenv("VOXIFY_STAGE", "dev")
    with pytest.raises(ConfigurationError) as error:
        Settings()
    assert str(error.value) == (
        "VOXIFY_TABLE_NAME, VOXIFY_AUDIO_BUCKET, VOXIFY_JOBS_QUEUE_URL, VOXIFY_UPLOADS_QUEUE_URL, "
        "VOXIFY_EVENT_BUS_NAME are not set (stage dev)"
    )


def test_deployed_function_with_everything_set(monkeypatch):
    set_environment(monkeypatch, {**DEPLOYED, "VOXIFY_STAGE": "prod"})
    settings = Settings()
    assert settings.table_name == "voxify-prod-data"
    assert settings.jobs_queue_url.endswith("voxify-prod-jobs")
    for name in (*REQUIRED_RESOURCES, *FUNCTION_RESOURCES):
        assert settings.require(name) == DEPLOYED[env_name(name)]


def test_deployed_worker_loads_without_the_function_only_variables(monkeypatch):
    """The worker's task definition sets no idempotency/rate-limit table, webhook queue or
    JWT secret: settings load, the local names do not apply, and `require` names the variable."""
    set_environment(monkeypatch, {**WORKER, "VOXIFY_STAGE": "prod"})
    settings = Settings()
    assert settings.audio_bucket == "voxify-prod-audio-123456789012"
    for name in FUNCTION_RESOURCES:
        assert getattr(settings, name) == ""
        with pytest.raises(ConfigurationError, match=rf"^{env_name(name)} is not set \(stage prod\)$"):
            settings.require(name)


def test_lists_are_read_as_json(monkeypatch):
    monkeypatch.setenv("VOXIFY_CORS_ALLOW_ORIGINS", '["https://a.example", "https://b.example"]')
    monkeypatch.setenv("VOXIFY_TRUSTED_EVENT_SOURCES", '["back.office"]')
    settings = Settings()
    assert settings.cors_allow_origins == ["https://a.example", "https://b.example"]
    assert settings.trusted_event_sources == ["back.office"]


def test_a_list_that_is_not_json_names_its_variable(monkeypatch):
    monkeypatch.setenv("VOXIFY_CORS_ALLOW_ORIGINS", "https://a.example")
    with pytest.raises(ConfigurationError, match="^VOXIFY_CORS_ALLOW_ORIGINS is not valid JSON"):
        Settings()


def test_values_are_validated(monkeypatch):
    monkeypatch.setenv("VOXIFY_WORKER_CONCURRENCY", "0")
    with pytest.raises(ValidationError, match="worker_concurrency"):
        Settings()


def test_names_match_whatever_their_case(monkeypatch):
    monkeypatch.setenv("voxify_table_name", "t2")
    assert Settings().table_name == "t2"


def test_region_falls_back_to_the_default_region_variable(monkeypatch):
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-south-1")
    assert Settings().region == "ap-south-1"


def test_given_values_win_over_the_environment(monkeypatch):
    monkeypatch.setenv("VOXIFY_TABLE_NAME", "from-environment")
    assert Settings(table_name="given").table_name == "given"
