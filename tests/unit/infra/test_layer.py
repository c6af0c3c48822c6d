"""VoxifyLayer holds everything the functions import, and nothing listed as unused.

The layer is assembled as `sam build` makes it (infra/layer.py mirrors shared/Makefile), then
each function's handler is imported the way Lambda imports it: from its own folder, with the
layer as the only place packages come from (`python -S`: no site-packages, no editable install).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from infra.layer import ROOT, assemble, unused_paths

FUNCTIONS = sorted(p.name for p in (ROOT / "functions").iterdir() if (p / "handler.py").is_file())


@pytest.fixture(scope="module")
def layer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("layer")
    assemble(target)
    return target / "python"


def run_in_layer(layer: Path, *args: str, function: str | None = None) -> str:
    """Standard output of `python -S *args` with the layer (and `function`'s folder, as Lambda
    puts it on the path) as the only places packages come from."""
    paths = [str(layer)] + ([str(ROOT / "functions" / function)] if function else [])
    environment = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": os.pathsep.join(paths),
        "AWS_EC2_METADATA_DISABLED": "true",  # nothing here may reach for AWS credentials
    }
    result = subprocess.run([sys.executable, "-S", *args], env=environment, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.mark.parametrize("function", FUNCTIONS)
def test_each_handler_imports_from_the_layer_alone(layer: Path, function: str) -> None:
    probe = "import handler; app = getattr(handler, 'app', None); app and app.openapi(); print('ok')"
    assert run_in_layer(layer, "-c", probe, function=function).strip() == "ok"


def test_the_api_answers_from_the_layer_alone(layer: Path) -> None:
    """Routing, validation, the error envelope, the studio and the OpenAPI document work
    without the pydantic, Starlette and anyio parts the build removes."""
    requests = {
        "GET /health": 200,
        "GET /nowhere": 404,
        "POST /api/v1/auth/login {}": 400,
        "GET /api/v1/voice/models": 401,
        "GET /studio/": 200,
        "GET /docs": 200,
        "GET /openapi.json": 200,
    }
    output = run_in_layer(layer, str(Path(__file__).with_name("layer_api_probe.py")), *requests, function="api")
    answers = [json.loads(line) for line in output.splitlines()]
    assert {answer["request"]: answer["status"] for answer in answers} == requests
    from voxify.http.app import create_app

    assert json.loads(answers[-1]["body"]) == create_app().openapi()


def test_sqs_batches_and_event_classes_work_from_the_layer_alone(layer: Path) -> None:
    """Powertools' batch processing and event classes need none of the removed event sources."""
    probe = (
        "from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response\n"
        "from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent, EventBridgeEvent\n"
        "seen = []\n"
        "event = {'Records': [{'messageId': 'm1', 'body': 'hello', 'eventSource': 'aws:sqs', 'attributes': {}}]}\n"
        "result = process_partial_response(event=event, record_handler=lambda record: seen.append(record.body),"
        " processor=BatchProcessor(event_type=EventType.SQS))\n"
        "print(seen, result)"
    )
    assert run_in_layer(layer, "-c", probe).strip() == "['hello'] {'batchItemFailures': []}"


def test_anyio_resolves_host_names_from_the_layer_alone(layer: Path) -> None:
    """anyio runs on asyncio without its trio backend, and resolves ASCII names without idna."""
    probe = "import anyio; print(bool(anyio.run(anyio.getaddrinfo, 'localhost', 80)))"
    assert run_in_layer(layer, "-c", probe).strip() == "True"


def test_passwords_hash_and_verify_with_the_layer_alone(layer: Path) -> None:
    """argon2's compiled FFI works without the cffi parts the build removes."""
    probe = "from argon2 import PasswordHasher as P; h = P().hash('pw'); print(P().verify(h, 'pw'))"
    assert run_in_layer(layer, "-c", probe).strip() == "True"


def test_what_the_build_removes_exists_and_is_gone(layer: Path) -> None:
    import aws_lambda_powertools

    site = Path(aws_lambda_powertools.__file__).parents[1]
    for path in unused_paths():
        assert (site / path).exists(), f"{path} is listed as unused but no installed library has it"
        assert not (layer / path).exists()
    assert not list(layer.glob("anyio/_backends/__pycache__/_trio.*.pyc")), "a removed module's bytecode stays"


def test_the_layer_holds_no_settings_library(layer: Path) -> None:
    assert not (layer / "pydantic_settings").exists()
    assert not (layer / "dotenv").exists()
