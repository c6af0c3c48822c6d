"""VoxifyLayer as `sam build` makes it (shared/Makefile), assembled from installed packages.

The deployed layer is the closure of shared/requirements.txt, less the library parts listed
in shared/layer-unused.txt, plus the voxify package. Assembling it from this environment's
installed distributions (the same versions, the host's platform) needs no network, so a test
can import every function's handler from it alone, as Lambda will, and the benchmark can
weigh it.
"""

from __future__ import annotations

import importlib.metadata as metadata
import re
import shutil
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT / "shared"
# what the Lambda Python runtime provides: not counted in the layer's size
RUNTIME_PROVIDED = frozenset({"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3"})


def requirements() -> list[str]:
    """The layer's requirement lines (shared/requirements.txt, comments dropped)."""
    lines = (line.split("#")[0].strip() for line in (SHARED / "requirements.txt").read_text().splitlines())
    return [line for line in lines if line]


def unused_paths() -> list[str]:
    """Library paths, relative to the layer's python/ folder, the build removes."""
    lines = (line.strip() for line in (SHARED / "layer-unused.txt").read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def closure(requirement_lines: list[str]) -> set[str]:
    """Normalised names of the distributions `requirement_lines` install, dependencies included."""
    seen: set[str] = set()
    pending = [Requirement(line) for line in requirement_lines]
    while pending:
        requirement = pending.pop()
        name = re.sub(r"[-_.]+", "-", requirement.name).lower()
        if name in seen:
            continue
        seen.add(name)
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        for line in dist.requires or []:
            dependency = Requirement(line)
            marker = dependency.marker
            if marker is None or any(marker.evaluate({"extra": e}) for e in ("", *requirement.extras)):
                pending.append(dependency)
    return seen


def assemble(target: Path) -> dict[str, int]:
    """Build the layer's python/ folder under `target`; the bytes each part holds (by
    distribution name, and "voxify"), after the unused paths are removed."""
    python = target / "python"
    unused = tuple(unused_paths())
    sizes: dict[str, int] = {}
    for name in sorted(closure(requirements())):
        sizes[name] = _copy_distribution(metadata.distribution(name), python, unused)
    shutil.copytree(SHARED / "voxify", python / "voxify", ignore=shutil.ignore_patterns("__pycache__"))
    sizes["voxify"] = sum(p.stat().st_size for p in (python / "voxify").rglob("*") if p.is_file())
    return sizes


def is_unused(relative: str, unused: tuple[str, ...]) -> bool:
    """Whether the file at `relative` is an unused path, lies under one, or is the bytecode of
    an unused module (the build removes a module's `__pycache__` files with it)."""
    return any(path == u or path.startswith(f"{u}/") for path in (relative, _source_of(relative)) for u in unused)


def _source_of(relative: str) -> str:
    """The module whose bytecode `relative` is (`a/__pycache__/b.cpython-311.pyc`: `a/b.py`),
    or `relative` itself."""
    folder, cache, name = f"/{relative}".rpartition("/__pycache__/")
    if not cache or not name.endswith(".pyc"):
        return relative
    return f"{folder}/{name.split('.')[0]}.py".lstrip("/")


def _copy_distribution(dist: metadata.Distribution, python: Path, unused: tuple[str, ...]) -> int:
    copied = 0
    for file in dist.files or []:
        relative = file.as_posix()
        if relative.startswith("..") or is_unused(relative, unused):
            continue  # scripts installed outside site-packages, and the parts no function imports
        source = Path(str(dist.locate_file(file)))
        if source.is_file():
            destination = python / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination)
            copied += source.stat().st_size
    return copied
