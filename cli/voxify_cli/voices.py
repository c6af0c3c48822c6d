"""`voxify voices`: samples of your voice in, clones out."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from voxify_cli.client import ApiClient, error_of
from voxify_cli.output import JsonOption, WorkEnded, api, emit, reports_failures
from voxify_cli.waiting import wait_for

INLINE_UPLOAD_BYTES = 4 * 1024 * 1024  # larger files go straight to storage (presigned POST)
SAMPLE_COLUMNS = ["sample_id", "name", "status", "duration_seconds", "created_at"]
CLONE_COLUMNS = ["clone_id", "name", "status", "language", "created_at"]

app = typer.Typer(help="Voice samples and clones.", no_args_is_help=True)

Wait = Annotated[bool, typer.Option(help="wait until the service has processed it")]
Timeout = Annotated[float, typer.Option(help="seconds to wait at most")]


@app.command()
@reports_failures
def upload(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="wav, mp3, flac, ogg, m4a or webm")],
    name: Annotated[str, typer.Option(help="a name for the sample")],
    language: Annotated[str, typer.Option(help="the language spoken")] = "en",
    wait: Wait = True,
    timeout: Timeout = 300,
    json: JsonOption = False,
) -> None:
    """Upload a recording of your voice as a sample.

    Example: voxify voices upload me.wav --name "Studio take 1"
    """
    client = api()
    data = file.read_bytes()
    sample = (
        _upload_inline(client, file.name, data, name, language)
        if len(data) <= INLINE_UPLOAD_BYTES
        else _upload_presigned(client, data, name, language)
    )
    if wait:
        sample = _settled(client, f"/api/v1/voice/samples/{sample['sample_id']}", "processing", timeout)
        if sample["status"] != "ready":
            raise WorkEnded(f"sample {sample['sample_id']} was rejected: {_reasons(sample)}")
    emit(sample, json, SAMPLE_COLUMNS)


@app.command("list")
@reports_failures
def list_voices(
    samples: Annotated[bool, typer.Option("--samples", help="list samples instead of clones")] = False,
    json: JsonOption = False,
) -> None:
    """List your clones (or, with --samples, your samples)."""
    path = "/api/v1/voice/samples" if samples else "/api/v1/voice/clones"
    emit(api().call("GET", path, params={"limit": 100}), json, SAMPLE_COLUMNS if samples else CLONE_COLUMNS)


@app.command()
@reports_failures
def clone(
    sample_ids: Annotated[list[str], typer.Argument(help="one or more sample ids; the first is the reference")],
    name: Annotated[str, typer.Option(help="the voice's name")],
    ref_text: Annotated[str, typer.Option(help="exactly what is said in the first sample")],
    consent: Annotated[
        bool, typer.Option("--consent", help="the speaker consented to being cloned (required)")
    ] = False,
    language: Annotated[str, typer.Option()] = "en",
    wait: Wait = True,
    timeout: Timeout = 300,
    json: JsonOption = False,
) -> None:
    """Make a voice clone from samples. Cloning needs the speaker's consent: pass --consent.

    Example: voxify voices clone smp_123 --name Narrator --ref-text "Hello there." --consent
    """
    client = api()
    body = {"sample_ids": sample_ids, "name": name, "ref_text": ref_text, "language": language, "consent": consent}
    voice = client.call("POST", "/api/v1/voice/clones", json=body)
    if wait:
        voice = _settled(client, f"/api/v1/voice/clones/{voice['clone_id']}", "processing", timeout)
        if voice["status"] != "ready":
            reason = (voice.get("review") or {}).get("reason", "")
            raise WorkEnded(f"clone {voice['clone_id']} is {voice['status']}: {reason}")
    emit(voice, json, CLONE_COLUMNS)


@app.command()
@reports_failures
def select(clone_id: str, json: JsonOption = False) -> None:
    """Make a clone your active voice (used when a request names none)."""
    emit(api().call("POST", f"/api/v1/voice/clones/{clone_id}/select"), json, CLONE_COLUMNS)


@app.command()
@reports_failures
def rm(
    voice_id: Annotated[str, typer.Argument(help="a clone id (vox_...) or, with --sample, a sample id")],
    sample: Annotated[bool, typer.Option("--sample", help="delete a sample")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="do not ask for confirmation")] = False,
) -> None:
    """Delete a clone (or a sample) and its audio."""
    kind = "sample" if sample else "clone"
    if not yes:
        typer.confirm(f"Delete {kind} {voice_id} and its audio?", abort=True)
    api().call("DELETE", f"/api/v1/voice/{kind}s/{voice_id}")
    typer.echo(f"deleted {kind} {voice_id}")


def _upload_inline(client: ApiClient, filename: str, data: bytes, name: str, language: str) -> dict[str, Any]:
    files = {"file": (filename, data, "application/octet-stream")}
    sample: dict[str, Any] = client.call(
        "POST", "/api/v1/voice/samples", files=files, data={"name": name, "language": language}
    )
    return sample


def _upload_presigned(client: ApiClient, data: bytes, name: str, language: str) -> dict[str, Any]:
    """Large files: the API hands out a form for storage, and processing starts on arrival."""
    body = {"name": name, "language": language, "size_bytes": len(data)}
    started = client.call("POST", "/api/v1/voice/samples/uploads", json=body)
    post_form(started["upload"], data)
    sample: dict[str, Any] = started["sample"]
    return sample


def post_form(upload: dict[str, Any], data: bytes) -> None:
    """POST `data` with a presigned form's fields (to storage, without our credentials)."""
    answer = httpx.post(upload["url"], data=upload["fields"], files={"file": ("upload", data)}, timeout=300)
    if answer.status_code >= 300:
        raise error_of(answer)


def _settled(client: ApiClient, path: str, busy: str, timeout: float) -> dict[str, Any]:
    return wait_for(
        lambda: client.call("GET", path),
        lambda record: record["status"] not in (busy, "uploading", "uploaded"),
        lambda record: (0.0, 1.0),
        path.rsplit("/", 1)[-1],
        timeout,
    )


def _reasons(sample: dict[str, Any]) -> str:
    return "; ".join(sample.get("rejection_reasons") or []) or "no reason given"
