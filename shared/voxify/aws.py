"""One factory for AWS clients.

`AWS_ENDPOINT_URL` (the embedded emulator, LocalStack) is honoured by botocore itself;
passing it explicitly as well keeps older SDKs and tools that read settings from us
consistent. Without it the default credential chain talks to real AWS.

Clients use the process's credentials (the default chain: a Lambda function's or an ECS
task's role, or the environment), unless code runs inside `acting_as(credentials)`. That is
for hosts that run several components in one process, as the local stack does: its runner
calls each SQS-triggered function with the function's own role, the way Lambda would run it
in a sandbox of its own. The credentials in force are a context variable, so each thread
(and each asyncio task) sees only what it set; clients are cached per service and
credentials.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from typing import Any

import boto3
from botocore.config import Config

from voxify.settings import get_settings

_RETRIES = Config(retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=5, read_timeout=30)
_S3_CONFIG = _RETRIES.merge(Config(s3={"addressing_style": "path"}, signature_version="s3v4"))


@dataclass(frozen=True)
class Credentials:
    """An access key, with the session token of temporary (assumed-role) credentials."""

    access_key_id: str
    secret_access_key: str
    session_token: str | None = None

    def environment(self) -> dict[str, str]:
        """The variables that give a child process these credentials."""
        variables = {"AWS_ACCESS_KEY_ID": self.access_key_id, "AWS_SECRET_ACCESS_KEY": self.secret_access_key}
        if self.session_token:
            variables["AWS_SESSION_TOKEN"] = self.session_token
        return variables

    def __repr__(self) -> str:  # never print a secret
        return f"Credentials(access_key_id={self.access_key_id!r})"


_acting_as: ContextVar[Credentials | None] = ContextVar("voxify_aws_acting_as", default=None)


@contextmanager
def acting_as(credentials: Credentials | None) -> Iterator[None]:
    """Clients made (or taken from the cache) inside use `credentials`; None means the
    process's own. Objects keep the client they were built with, so build them inside too."""
    token = _acting_as.set(credentials)
    try:
        yield
    finally:
        _acting_as.reset(token)


def current_credentials() -> Credentials | None:
    """The credentials `acting_as` put in force here, or None for the process's own."""
    return _acting_as.get()


def _options(service: str) -> dict[str, Any]:
    settings = get_settings()
    return {
        "region_name": settings.region,
        "endpoint_url": settings.aws_endpoint_url,
        "config": _S3_CONFIG if service == "s3" else _RETRIES,
    }


def _session(credentials: Credentials | None) -> Any:
    """A new session: boto3 types its clients per service name, and ours is chosen at run time."""
    if credentials is None:
        return boto3.session.Session()
    return boto3.session.Session(
        aws_access_key_id=credentials.access_key_id,
        aws_secret_access_key=credentials.secret_access_key,
        aws_session_token=credentials.session_token,
    )


@cache
def _client(service: str, credentials: Credentials | None) -> Any:
    return _session(credentials).client(service, **_options(service))


@cache
def _resource(service: str, credentials: Credentials | None) -> Any:
    return _session(credentials).resource(service, **_options(service))


def client(service: str) -> Any:
    """A cached, thread-safe boto3 client for `service`, pointed where the settings say."""
    return _client(service, _acting_as.get())


def resource(service: str) -> Any:
    """A cached boto3 resource (DynamoDB Table objects want one)."""
    return _resource(service, _acting_as.get())


def reset_clients() -> None:
    """Forget cached clients and settings, for processes that change endpoint at run time."""
    _client.cache_clear()
    _resource.cache_clear()
    get_settings.cache_clear()
