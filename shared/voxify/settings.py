"""Every configuration value Voxify reads, from environment variables, in one place.

Resource names arrive as environment variables set by template.yaml (Globals and the
worker's task definition); the local stack sets the same variables from the same template,
so code never builds a resource name itself.

Only the local stage (the default) falls back to local resource names. In any other stage a
resource variable that the template sets for every process (`REQUIRED_RESOURCES`) must be
set, or settings fail to load, naming it; the ones only the functions get
(`FUNCTION_RESOURCES`) have no fallback there and are checked where used, with `require`.

Each setting comes from `VOXIFY_<NAME>`, or from the variables its `validation_alias` names;
names match whatever their case and lists are written as JSON. Reading them here rather than
through a settings library keeps that library out of every function's cold start and layer.
"""

import json
import os
from functools import lru_cache
from typing import Any, Literal, Self, get_origin

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, model_validator
from pydantic.fields import FieldInfo

ENV_PREFIX = "VOXIFY_"
LOCAL_STAGE = "local"

# Set for every process by template.yaml: in the Globals (all functions) and in the worker's
# task definition.
REQUIRED_RESOURCES = ("table_name", "audio_bucket", "jobs_queue_url", "uploads_queue_url", "event_bus_name")
# Set in the Globals only: the functions get them, the worker does not.
FUNCTION_RESOURCES = ("idempotency_table_name", "rate_limit_table_name", "webhook_queue_url", "jwt_secret_arn")


class ConfigurationError(RuntimeError):
    """A setting the process needs is missing from its environment."""


def env_name(field: str) -> str:
    """The environment variable a setting is read from."""
    return f"{ENV_PREFIX}{field.upper()}"


def _from_environment(fields: dict[str, FieldInfo]) -> dict[str, Any]:
    """The values the environment sets for `fields`, by field name."""
    environment = {name.lower(): value for name, value in os.environ.items()}
    values: dict[str, Any] = {}
    for field, info in fields.items():
        variable = next((name for name in _variables(field, info) if name.lower() in environment), None)
        if variable is not None:
            values[field] = _parse(variable, environment[variable.lower()], info)
    return values


def _variables(field: str, info: FieldInfo) -> list[str]:
    """The environment variables `field` is read from; the first one set wins."""
    alias = info.validation_alias
    if isinstance(alias, AliasChoices):
        return [choice for choice in alias.choices if isinstance(choice, str)]
    return [alias] if isinstance(alias, str) else [env_name(field)]


def _parse(variable: str, value: str, info: FieldInfo) -> Any:
    """A list arrives as JSON text; pydantic validates every other value from its string."""
    if get_origin(info.annotation) is not list:
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError as error:
        raise ConfigurationError(f"{variable} is not valid JSON: {error}") from None


class Settings(BaseModel):
    model_config = ConfigDict(extra="ignore", validate_by_name=True)

    stage: str = LOCAL_STAGE
    region: str = Field(default="us-east-1", validation_alias=AliasChoices("AWS_REGION", "AWS_DEFAULT_REGION"))
    # Set to talk to the embedded emulator or LocalStack; unset means real AWS.
    aws_endpoint_url: str | None = Field(default=None, validation_alias="AWS_ENDPOINT_URL")

    # Resource names and URLs. The defaults are the local stack's and apply in the local stage
    # only (see the module docstring).
    table_name: str = "voxify-local-data"
    idempotency_table_name: str = "voxify-local-idempotency"
    rate_limit_table_name: str = "voxify-local-rate-limits"
    audio_bucket: str = "voxify-local-audio-123456789012"
    jobs_queue_url: str = ""
    uploads_queue_url: str = ""
    webhook_queue_url: str = ""
    event_bus_name: str = "voxify-local"
    jwt_secret_arn: str = "voxify/local/jwt-signing-key"

    cors_allow_origins: list[str] = ["*"]

    # Auth.
    access_token_ttl_seconds: int = Field(default=3600, gt=0)
    refresh_token_ttl_seconds: int = Field(default=30 * 86400, gt=0)
    reset_token_ttl_seconds: int = Field(default=3600, gt=0)
    verification_token_ttl_seconds: int = Field(default=3 * 86400, gt=0)
    # Throttles of the unauthenticated auth routes, per route and fixed one-minute window:
    # requests from one client IP, and requests naming one account (e-mail address).
    auth_throttle_per_ip_per_minute: int = Field(default=30, gt=0)
    auth_throttle_per_account_per_minute: int = Field(default=10, gt=0)
    # How long a process reuses what authenticated a caller (user record, API key) before
    # reading it again: a disabled account, a bumped token version or a deleted key takes
    # effect everywhere within this, and at once in the process that made the change.
    principal_cache_seconds: float = Field(default=5.0, ge=0, le=60)
    sender_email: str = "no-reply@voxify.local"
    public_url: str = "http://127.0.0.1:8000"

    # Limits (defaults; admins change the live values through /api/v1/admin/config).
    rate_limit_per_minute: int = Field(default=100, gt=0)
    # How long a job create reuses a voice it resolved: the create's transaction checks that
    # the voice is still the caller's and ready, so a stale entry can refuse, never admit.
    voice_cache_seconds: float = Field(default=5.0, ge=0, le=60)
    daily_sample_quota: int = Field(default=50, gt=0)
    # similar-voice searches (by clip or by clone): each embeds audio in the worker
    daily_search_quota: int = Field(default=200, gt=0)
    daily_job_quota: int = Field(default=1000, gt=0)
    # watermark checks of uploaded files (POST /api/v1/watermark/detect), run by the worker
    daily_detection_quota: int = Field(default=200, gt=0)
    # verification recordings (each is a worker's speech recognition, speaker embedding and
    # watermark check); asking for a phrase is free
    daily_verification_quota: int = Field(default=20, gt=0)
    max_sample_bytes: int = Field(default=50 * 1024 * 1024, gt=0)
    # A Lambda request event is at most 6 MB and API Gateway base64-encodes a binary body (4/3
    # larger), so files over 4 MiB go through presigned uploads.
    max_inline_upload_bytes: int = Field(default=4 * 1024 * 1024, gt=0)
    # Audio a file may hold: checked in its header at upload and while the worker decodes, so
    # a small file of hours of silence is refused, not decoded. Samples longer than 300 s are
    # refused by the quality check anyway; a search needs only a few seconds of speech.
    max_sample_seconds: float = Field(default=300.0, gt=0)
    max_search_clip_seconds: float = Field(default=30.0, gt=0)
    max_detection_clip_seconds: float = Field(default=300.0, gt=0)
    # A verification recording holds one short phrase read aloud.
    max_verification_clip_seconds: float = Field(default=30.0, gt=0)
    # How long a verification challenge stays open for its recording.
    verification_challenge_seconds: int = Field(default=600, gt=0, le=86_400)
    sync_wait_seconds: float = Field(default=20.0, ge=0)
    # Under Lambda a response cannot stream forever: SSE streams end after this and clients
    # reconnect with Last-Event-ID.
    sse_max_seconds: float = Field(default=25.0, gt=0)
    sse_poll_seconds: float = Field(default=0.5, gt=0)
    # Audio streams (/tts/synthesize/stream) look for the worker's next chunk this often: the
    # wait adds to the time to first audio byte, so it is short (a consistent GetItem each).
    stream_poll_seconds: float = Field(default=0.05, gt=0)
    # A Lambda function URL answers for at most 15 min; a stream ends before that.
    stream_max_seconds: float = Field(default=840.0, gt=0)

    model_s3_prefix: str = "models/f5tts/"
    # where the worker mirrors the S3 model store; Hugging Face downloads only when allowed
    model_cache_dir: str = "~/.cache/voxify/models/f5tts"
    allow_hub_download: bool = False
    default_engine: Literal["auto", "f5tts", "vits", "formant"] = "auto"

    # Speaker embeddings. Unset: LanceDB tables under the audio bucket's vectors/ prefix.
    vectors_uri: str | None = None
    # Cosine similarity at or above which a new clone matching another user's voice is held
    # for review. Calibrated on the f5-tts example speech (see docs/voice-identity.md).
    impersonation_threshold: float = Field(default=0.70, gt=0, le=1)
    # Event sources whose "Synthesis Requested" events may name a bare user_id (others must
    # send an api_key): sources the operator controls, e.g. their own back office.
    trusted_event_sources: list[str] = []
    search_wait_seconds: float = Field(default=10.0, ge=0)
    detection_wait_seconds: float = Field(default=10.0, ge=0)

    # Webhook deliveries: retried with exponential backoff (base * 2^(attempt-1), at most
    # 15 min, SQS's longest delay); a webhook is disabled after this many failures in a row.
    webhook_timeout_seconds: float = Field(default=5.0, gt=0, le=30)
    webhook_max_attempts: int = Field(default=6, ge=1, le=20)
    webhook_retry_base_seconds: int = Field(default=30, ge=0, le=900)
    webhook_disable_after_failures: int = Field(default=15, ge=1)

    # Worker behaviour.
    worker_concurrency: int = Field(default=1, ge=1, le=64)
    worker_heartbeat_seconds: float = Field(default=10.0, gt=0)
    worker_poll_wait_seconds: int = Field(default=20, ge=0, le=20)
    # How long a received message and a job claim stay ours without renewal: a worker that
    # dies mid-job gives its work back to the queue (and its job to a takeover) this soon.
    # Renewed every quarter of it while the work runs.
    worker_lease_seconds: int = Field(default=120, ge=4, le=43_200)
    # With an engine that speaks many jobs in one pass (F5 on a GPU): at most this many jobs
    # taken together (SQS hands out 10 at a time; 1 turns batching off), and how long the
    # first of them may wait for others to join it.
    worker_batch_jobs: int = Field(default=8, ge=1, le=10)
    worker_batch_wait_ms: float = Field(default=50.0, ge=0, le=5_000)
    # Claims a job may take before the sweep fails it (RETRIES_EXHAUSTED): matches the jobs
    # queue's maxReceiveCount, so a job that kills each worker that takes it ends.
    job_max_attempts: int = Field(default=5, ge=1, le=100)
    # Set by the ECS agent in a task's containers; the worker protects its task from
    # scale-in through it while it holds work.
    ecs_agent_uri: str | None = Field(default=None, validation_alias="ECS_AGENT_URI")

    def __init__(self, **values: Any) -> None:
        """Read from the environment; values given here (by field name) take precedence."""
        super().__init__(**{**_from_environment(type(self).model_fields), **values})

    @model_validator(mode="after")
    def _resources_outside_local(self) -> Self:
        """Outside the local stage, no resource name falls back to a local one."""
        if self.stage == LOCAL_STAGE:
            return self
        missing = [env_name(name) for name in REQUIRED_RESOURCES if not self._given(name)]
        if missing:
            verb = "is" if len(missing) == 1 else "are"
            raise ConfigurationError(f"{', '.join(missing)} {verb} not set (stage {self.stage})")
        for name in FUNCTION_RESOURCES:
            if not self._given(name):
                setattr(self, name, "")  # `require` names the variable where it is used
        return self

    def _given(self, name: str) -> bool:
        """Whether the environment (or the caller) set `name` to something non-empty."""
        return name in self.model_fields_set and bool(getattr(self, name))

    def require(self, name: str) -> str:
        """The value of the resource setting `name`; raises, naming its environment variable,
        where it is empty. For the settings only some processes get (FUNCTION_RESOURCES)."""
        value = getattr(self, name)
        if not isinstance(value, str) or not value:
            raise ConfigurationError(f"{env_name(name)} is not set (stage {self.stage})")
        return value

    @property
    def vector_store_uri(self) -> str:
        return self.vectors_uri or f"s3://{self.audio_bucket}/vectors"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings are read once per process, as a Lambda sandbox or a worker would."""
    return Settings()
