"""Cold start of each Lambda handler: import time (`python -X importtime`) and package size.

Import time is the cumulative microseconds `-X importtime` reports for the handler module,
median of several fresh interpreters. Package size is the installed size of the layer's
requirements (shared/requirements.txt and everything they pull), without boto3/botocore,
which the Lambda runtime provides, plus the voxify package itself.
"""

from __future__ import annotations

import importlib.metadata as metadata
import re
import statistics
import subprocess
import sys
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
HANDLERS = [
    "functions.api.handler",
    "functions.dropfolder.handler",
    "functions.ingest.handler",
    "functions.dlq.handler",
    "functions.batches.handler",
    "functions.webhooks.handler",
]
RUNTIME_PROVIDED = {"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3"}
RUNS = 5


def import_times(module: str) -> list[tuple[str, int]]:
    """(module, cumulative microseconds) for every import `-X importtime` reports; nested
    imports keep their indentation."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": ""},
    )
    rows = [line.split("|") for line in result.stderr.splitlines() if line.startswith("import time:")]
    return [(name.rstrip(), int(cumulative)) for _, cumulative, name in rows[1:]]


def import_microseconds(module: str) -> int:
    for name, cumulative in import_times(module):
        if name.strip() == module:
            return cumulative
    raise RuntimeError(f"{module} not in importtime output")


def heaviest_imports(module: str, count: int = 6) -> list[tuple[str, int]]:
    """The packages the handler module imports directly that cost it most (importtime indents
    each nesting level by two spaces)."""
    times = import_times(module)
    depth = next(len(name) - len(name.lstrip()) for name, _ in times if name.strip() == module) + 2
    top = [(name.strip(), us) for name, us in times if len(name) - len(name.lstrip()) == depth]
    return sorted(top, key=lambda item: -item[1])[:count]


def closure(requirements: list[str]) -> set[str]:
    seen: set[str] = set()
    pending = [Requirement(r) for r in requirements]
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
        for extra_requirement in dist.requires or []:
            parsed = Requirement(extra_requirement)
            if (
                parsed.marker is None
                or parsed.marker.evaluate({"extra": ""})
                or any(parsed.marker.evaluate({"extra": e}) for e in requirement.extras)
            ):
                pending.append(parsed)
    return seen


def installed_bytes(name: str) -> int:
    dist = metadata.distribution(name)
    paths = (Path(str(dist.locate_file(f))) for f in dist.files or [])
    return sum(path.stat().st_size for path in paths if path.is_file())


def main() -> None:
    print(f"{'handler module':<34}{'import ms (median of 5)':>26}")
    for module in HANDLERS:
        times = [import_microseconds(module) for _ in range(RUNS)]
        print(f"{module:<34}{statistics.median(times) / 1000:>26.0f}")
    print(f"\nheaviest first-level imports of {HANDLERS[0]}:")
    for name, microseconds in heaviest_imports(HANDLERS[0]):
        print(f"  {name:<32}{microseconds / 1000:>8.0f} ms")
    lines = [line.split("#")[0].strip() for line in (ROOT / "shared/requirements.txt").read_text().splitlines()]
    names = sorted(closure([line for line in lines if line]) - RUNTIME_PROVIDED)
    sizes = {name: installed_bytes(name) for name in names if _installed(name)}
    own = sum(
        p.stat().st_size for p in (ROOT / "shared/voxify").rglob("*") if p.is_file() and "__pycache__" not in p.parts
    )
    total = sum(sizes.values()) + own
    print(
        f"\nlayer package without boto3: {total / 2**20:.1f} MiB "
        f"({len(sizes)} distributions + voxify {own / 1024:.0f} KiB)"
    )
    for name, size in sorted(sizes.items(), key=lambda item: -item[1])[:8]:
        print(f"  {name:<28}{size / 2**20:>8.1f} MiB")


def _installed(name: str) -> bool:
    try:
        metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return False
    return True


if __name__ == "__main__":
    main()
