import logging
import os
from collections.abc import Iterator

import pytest

from tests.fixtures.aws import clear_aws_environment, moto_server, provision

# Tests never reach real AWS, X-Ray or CloudWatch.
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")

logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the emulator's access log


@pytest.fixture(scope="session")
def emulator_endpoint() -> Iterator[str]:
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def stack(emulator_endpoint, monkeypatch):
    """The template's resources in a freshly reset emulator; env vars point at them."""
    clear_aws_environment(monkeypatch)  # restored after the test
    bootstrap, resources = provision(emulator_endpoint)
    for name, value in resources.environment.items():
        monkeypatch.setenv(name, value)
    return bootstrap, resources


@pytest.fixture
def api(stack):
    """A TestClient of the real app over the emulated stack, calling AWS with the API
    function's role (a permission the template does not grant fails as it would in AWS)."""
    from fastapi.testclient import TestClient

    from tests.fixtures.api import reset_caches
    from tests.fixtures.aws import AsPrincipal, api_credentials
    from voxify.http.app import create_app

    reset_caches()
    with TestClient(AsPrincipal(create_app(), api_credentials()), follow_redirects=False) as client:
        yield client


@pytest.fixture
def alice(api):
    from tests.fixtures.api import register

    return register(api, "alice@example.com")


@pytest.fixture
def bob(api):
    from tests.fixtures.api import register

    return register(api, "bob@example.com")
