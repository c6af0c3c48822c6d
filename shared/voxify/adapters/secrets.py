"""The token-signing key, read once per process from Secrets Manager."""

from functools import lru_cache

from voxify.aws import client
from voxify.settings import get_settings


@lru_cache(maxsize=1)
def signing_key() -> str:
    secret = client("secretsmanager").get_secret_value(SecretId=get_settings().require("jwt_secret_arn"))
    return str(secret["SecretString"])
