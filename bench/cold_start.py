"""Cold start of each Lambda handler: import time (`python -X importtime`) and layer size.

The layer is assembled as `sam build` makes it (infra/layer.py, mirroring shared/Makefile)
into a temporary folder; each handler is imported from its own folder with that layer as the
only source of packages (`python -S`), as Lambda imports it, median of several fresh
interpreters. The size is the layer's, without boto3/botocore and the other libraries the
Lambda runtime provides, per distribution, with the bytes the build removes as unused.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from infra.layer import ROOT, RUNTIME_PROVIDED, assemble

FUNCTIONS = ["api", "dropfolder", "ingest", "dlq", "batches", "webhooks", "recovery", "job_events"]
RUNS = 5


def importtime_rows(function: str, layer: Path) -> list[tuple[int, int, str]]:
    """(own, cumulative microseconds, module) for every import `-X importtime` reports when
    Lambda would import `function`'s handler; nested modules keep their indentation."""
    result = subprocess.run(
        [sys.executable, "-S", "-X", "importtime", "-c", "import handler"],
        cwd=ROOT / "functions" / function,
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "", "PYTHONPATH": str(layer)},
    )
    rows = [line.split("|") for line in result.stderr.splitlines() if line.startswith("import time:")]
    return [(int(head.split(":")[1]), int(cumulative), name.rstrip()) for head, cumulative, name in rows[1:]]


def import_microseconds(function: str, layer: Path) -> int:
    for _, cumulative, name in importtime_rows(function, layer):
        if name.strip() == "handler":
            return cumulative
    raise RuntimeError(f"{function}'s handler not in importtime output")


def heaviest_imports(function: str, layer: Path, count: int = 8) -> list[tuple[str, int]]:
    """The modules the handler's import spends most in, by their own (not cumulative) time."""
    own = [(name.strip(), microseconds) for microseconds, _, name in importtime_rows(function, layer)]
    return sorted(own, key=lambda item: -item[1])[:count]


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        sizes = assemble(Path(folder))
        layer = Path(folder) / "python"
        for function in FUNCTIONS:  # the first import writes the voxify package's bytecode
            import_microseconds(function, layer)
        print(f"{'handler':<14}{'import ms (median of 5)':>26}")
        for function in FUNCTIONS:
            times = [import_microseconds(function, layer) for _ in range(RUNS)]
            print(f"{function:<14}{statistics.median(times) / 1000:>26.0f}")
        print("\nmodules the api handler's import spends most in (own time):")
        for name, microseconds in heaviest_imports("api", layer):
            print(f"  {name:<40}{microseconds / 1000:>8.0f} ms")
    counted = {name: size for name, size in sizes.items() if name not in RUNTIME_PROVIDED}
    print(
        f"\nlayer without what the runtime provides: {sum(counted.values()) / 2**20:.1f} MiB "
        f"({len(counted) - 1} distributions + voxify {counted['voxify'] / 1024:.0f} KiB)"
    )
    for name, size in sorted(counted.items(), key=lambda item: -item[1])[:10]:
        print(f"  {name:<28}{size / 2**20:>8.2f} MiB")


if __name__ == "__main__":
    main()
