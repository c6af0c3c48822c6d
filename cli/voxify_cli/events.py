"""`voxify events tail`: your jobs' state changes as they happen, by polling (no webhook
endpoint or open stream needed, so it works from any terminal or CI job)."""

from __future__ import annotations

import json as jsonlib
import sys
import time
from typing import Annotated, Any

import typer

from voxify_cli.client import ApiClient
from voxify_cli.output import JsonOption, api, console, reports_failures

POLL_SECONDS = 1.0

app = typer.Typer(help="State changes of your work.", no_args_is_help=True)


@app.command()
@reports_failures
def tail(
    duration: Annotated[float | None, typer.Option("--for", help="stop after this many seconds")] = None,
    json: JsonOption = False,
) -> None:
    """Print each change of your jobs' status or progress; Ctrl-C stops (as does --for).

    Example: voxify events tail --json | jq .status
    """
    client = api()
    seen = {job["job_id"]: _state(job) for job in _recent(client)}  # only what changes from now on
    stop_at = time.monotonic() + duration if duration is not None else None
    try:
        while stop_at is None or time.monotonic() < stop_at:
            for job in reversed(_recent(client)):
                if seen.get(job["job_id"]) != _state(job):
                    seen[job["job_id"]] = _state(job)
                    _print(job, json)
            time.sleep(POLL_SECONDS)
    except KeyboardInterrupt:
        pass


def _recent(client: ApiClient) -> list[dict[str, Any]]:
    params = {"limit": 50, "sort_by": "updated_at", "sort_order": "desc", "include_text": False}
    jobs: list[dict[str, Any]] = client.call("GET", "/api/v1/job", params=params)
    return jobs


def _state(job: dict[str, Any]) -> tuple[str, int]:
    return job["status"], int(job.get("progress") or 0)


def _print(job: dict[str, Any], as_json: bool) -> None:
    change = {k: job.get(k) for k in ("job_id", "status", "progress", "updated_at", "error_code")}
    if as_json:
        sys.stdout.write(jsonlib.dumps(change) + "\n")
        sys.stdout.flush()
    else:
        console.print(f"{change['updated_at']}  {change['job_id']}  {change['status']:<10} {change['progress']:>3}%")
