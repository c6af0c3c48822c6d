"""Every configuration value Voxify reads, from environment variables, in one place.

Resource names arrive as environment variables set by template.yaml (Globals and the
worker's task definition); the local stack sets the same variables from the same template,
so code never builds a resource name itself.
"""

from functools import lru_cache
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VOXIFY_", extra="ignore")

    stage: str = "local"
    region: str = Field(
        default="us-east-1", validation_alias=AliasChoices("AWS_REGION", "AWS_DEFAULT_REGION")
    )
    # Set to talk to the embedded emulator or LocalStack; unset means real AWS.
    aws_endpoint_url: str | None = Field(default=None, validation_alias="AWS_ENDPOINT_URL")

    table_name: str = "voxify-local-data"
    idempotency_table_name: str = "voxify-local-idempotency"
    rate_limit_table_name: str = "voxify-local-rate-limits"
    audio_bucket: str = "voxify-local-audio-123456789012"
    jobs_queue_url: str = ""
    uploads_queue_url: str = ""
    event_bus_name: str = "voxify-local"
    jwt_secret_arn: str = "voxify/local/jwt-signing-key"

    cors_allow_origins: list[str] = ["*"]

    model_s3_prefix: str = "models/f5tts/"
    default_engine: Literal["auto", "f5tts", "formant"] = "auto"

    # Worker behaviour.
    worker_concurrency: int = Field(default=1, ge=1, le=64)
    worker_heartbeat_seconds: float = Field(default=10.0, gt=0)
    worker_poll_wait_seconds: int = Field(default=20, ge=0, le=20)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings are read once per process, as a Lambda sandbox or a worker would."""
    return Settings()
