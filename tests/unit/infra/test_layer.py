"""VoxifyLayer holds everything the functions import, and nothing listed as unused.

The layer is assembled as `sam build` makes it (infra/layer.py mirrors shared/Makefile), then
each function's handler is imported the way Lambda imports it: from its own folder, with the
layer as the only place packages come from (`python -S`: no site-packages, no editable install).
"""

from __future__ import annotations

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


@pytest.mark.parametrize("function", FUNCTIONS)
def test_each_handler_imports_from_the_layer_alone(layer: Path, function: str) -> None:
    probe = "import handler; app = getattr(handler, 'app', None); app and app.openapi(); print('ok')"
    result = subprocess.run(
        [sys.executable, "-S", "-c", probe],
        cwd=ROOT / "functions" / function,
        env={"PATH": os.environ["PATH"], "PYTHONPATH": str(layer)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.stdout.strip() == "ok", result.stderr[-2000:]


def test_passwords_hash_and_verify_with_the_layer_alone(layer: Path) -> None:
    """argon2's compiled FFI works without the cffi parts the build removes."""
    probe = "from argon2 import PasswordHasher as P; h = P().hash('pw'); print(P().verify(h, 'pw'))"
    result = subprocess.run(
        [sys.executable, "-S", "-c", probe],
        env={"PATH": os.environ["PATH"], "PYTHONPATH": str(layer)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.stdout.strip() == "True", result.stderr[-2000:]


def test_what_the_build_removes_exists_and_is_gone(layer: Path) -> None:
    import aws_lambda_powertools

    site = Path(aws_lambda_powertools.__file__).parents[1]
    for path in unused_paths():
        assert (site / path).exists(), f"{path} is listed as unused but no installed library has it"
        assert not (layer / path).exists()
