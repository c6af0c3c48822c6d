"""`voxify batch`: many utterances from one manifest, through the drop folder."""

from __future__ import annotations

import json as jsonlib
from pathlib import Path
from typing import Annotated, Any

import typer

from voxify_cli.client import ApiClient
from voxify_cli.output import JsonOption, WorkEnded, api, emit, reports_failures
from voxify_cli.voices import post_form
from voxify_cli.waiting import POLL_SECONDS, wait_for

BATCH_COLUMNS = ["batch_id", "status", "total_lines", "counts", "output_prefix"]
MANIFEST_FORMATS = ("txt", "jsonl", "csv")

app = typer.Typer(help="Batches of utterances from a manifest.", no_args_is_help=True)


@app.command()
@reports_failures
def submit(
    manifest: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="a .txt, .jsonl or .csv manifest")],
    report: Annotated[Path | None, typer.Option(help="write the finished batch, line by line, here (JSON)")] = None,
    timeout: Annotated[float, typer.Option(help="seconds to wait at most")] = 3600,
    json: JsonOption = False,
) -> None:
    """Upload a manifest and follow its lines to the end with a progress bar.

    Example: voxify batch submit lines.jsonl --report report.json
    """
    fmt = manifest.suffix.lstrip(".").lower()
    if fmt not in MANIFEST_FORMATS:
        raise typer.BadParameter("a manifest is .txt, .jsonl or .csv", param_hint="MANIFEST")
    client = api()
    data = manifest.read_bytes()
    started = client.call("POST", "/api/v1/batches/uploads", json={"format": fmt, "size_bytes": len(data)})
    post_form(started["upload"], data)
    batch_id = _batch_of(client, started["manifest_key"], timeout)["batch_id"]
    batch = wait_for(
        lambda: client.call("GET", f"/api/v1/batches/{batch_id}"),
        lambda record: record["status"] not in ("creating", "processing"),
        lambda record: (float(_ended(record["counts"])), float(record["total_lines"])),
        batch_id,
        timeout,
    )
    if report is not None:
        lines = client.call("GET", f"/api/v1/batches/{batch_id}", params={"include_lines": True})
        report.write_text(jsonlib.dumps(lines, indent=2))
    emit(batch, json, BATCH_COLUMNS)
    if batch["status"] != "completed":
        raise WorkEnded(f"batch {batch_id} {batch['status']}: {batch['counts']}")


@app.command("list")
@reports_failures
def list_batches(json: JsonOption = False) -> None:
    """Your batches, newest first."""
    emit(api().call("GET", "/api/v1/batches", params={"limit": 50}), json, BATCH_COLUMNS)


def _batch_of(client: ApiClient, manifest_key: str, timeout: float) -> dict[str, Any]:
    """The batch the drop folder made of our manifest (it appears once the upload lands)."""

    def ours() -> dict[str, Any]:
        recent = client.call("GET", "/api/v1/batches", params={"limit": 50})
        return next((b for b in recent if b["manifest_key"] == manifest_key), {"status": "uploading"})

    return wait_for(
        ours,
        lambda record: "batch_id" in record,
        lambda record: (0.0, 1.0),
        "manifest",
        max(timeout, POLL_SECONDS),
    )


def _ended(counts: dict[str, int]) -> int:
    return counts.get("rejected", 0) + sum(counts.get(k, 0) for k in ("completed", "failed", "cancelled"))
