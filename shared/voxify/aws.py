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


@cache
def client(service: str) -> Any:
    """A cached, thread-safe boto3 client for `service`, pointed where the settings say."""
    settings = get_settings()
    config = _S3_CONFIG if service == "s3" else _RETRIES
    session: Any = boto3.session.Session()  # typed per service name; ours is chosen at run time
    return session.client(
        service,
        region_name=settings.region,
        endpoint_url=settings.aws_endpoint_url,
        config=config,
    )


@cache
def resource(service: str) -> Any:
    """A cached boto3 resource (DynamoDB Table objects want one)."""
    settings = get_settings()
    session: Any = boto3.session.Session()  # typed per service name; ours is chosen at run time
    return session.resource(
        service,
        region_name=settings.region,
        endpoint_url=settings.aws_endpoint_url,
        config=_RETRIES,
    )


def reset_clients() -> None:
    """Forget cached clients and settings, for processes that change endpoint at run time."""
    client.cache_clear()
    resource.cache_clear()
    get_settings.cache_clear()
