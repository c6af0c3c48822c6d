"""Fixtures for tests that drive the worker's real handlers over emulated AWS."""

import pytest

from tests.fixtures.api import reset_caches
from tests.fixtures.worker import WorkerHarness
from voxify_worker.engines.formant import FormantEngine


@pytest.fixture(scope="module")
def engine():
    return FormantEngine()


@pytest.fixture
def worker(stack, engine):
    reset_caches()
    return WorkerHarness(engine)
