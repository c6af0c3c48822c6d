"""One factory for AWS clients.

`AWS_ENDPOINT_URL` (the embedded emulator, LocalStack) is honoured by botocore itself;
passing it explicitly as well keeps older SDKs and tools that read settings from us
consistent. Without it the default credential chain talks to real AWS.
"""

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

from voxify.settings import get_settings

_RETRIES = Config(retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=5, read_timeout=30)
_S3_CONFIG = _RETRIES.merge(Config(s3={"addressing_style": "path"}, signature_version="s3v4"))


def _options(service: str) -> dict[str, Any]:
    settings = get_settings()
    return {
        "region_name": settings.region,
        "endpoint_url": settings.aws_endpoint_url,
        "config": _S3_CONFIG if service == "s3" else _RETRIES,
    }


def _session() -> Any:
    """A new session: boto3 types its clients per service name, and ours is chosen at run time."""
    return boto3.session.Session()


@cache
def client(service: str) -> Any:
    """A cached, thread-safe boto3 client for `service`, pointed where the settings say."""
    return _session().client(service, **_options(service))


@cache
def resource(service: str) -> Any:
    """A cached boto3 resource (DynamoDB Table objects want one)."""
    return _session().resource(service, **_options(service))


def reset_clients() -> None:
    """Forget cached clients and settings, for processes that change endpoint at run time."""
    client.cache_clear()
    resource.cache_clear()
    get_settings.cache_clear()
