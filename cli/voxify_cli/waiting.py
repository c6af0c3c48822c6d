"""Waiting for work the service does in the background, with a progress bar (on a terminal;
scripts with --json get no bar on stdout)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from voxify_cli.output import WaitedTooLong, errors

POLL_SECONDS = 0.5

Record = dict[str, Any]


def wait_for(
    fetch: Callable[[], Record],
    settled: Callable[[Record], bool],
    progress: Callable[[Record], tuple[float, float]],
    label: str,
    timeout: float,
) -> Record:
    """Fetch until `settled`; the bar shows `progress` as (done, total). Raises WaitedTooLong."""
    deadline = time.monotonic() + timeout
    columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn())
    with Progress(*columns, console=errors, transient=True) as bar:
        task = bar.add_task(label, total=None)
        while True:
            record = fetch()
            done, total = progress(record)
            bar.update(task, completed=done, total=total, description=f"{label} ({record.get('status')})")
            if settled(record):
                return record
            if time.monotonic() > deadline:
                raise WaitedTooLong(f"{label} was still {record.get('status')} after {timeout:.0f} s")
            time.sleep(POLL_SECONDS)
