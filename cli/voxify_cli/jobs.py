"""`voxify say` and `voxify jobs`: synthesis jobs, from request to audio file."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Annotated, Any, BinaryIO

import typer
from rich.progress import Progress, TextColumn

from voxify_cli.client import ApiClient
from voxify_cli.output import JsonOption, WorkEnded, api, emit, errors, reports_failures
from voxify_cli.waiting import wait_for

FINISHED = ("completed", "failed", "cancelled")
JOB_COLUMNS = ["job_id", "status", "progress", "voice_model_id", "output_format", "duration_seconds", "created_at"]
FORMATS = ("wav", "mp3", "flac", "ogg", "opus")
STREAM_FORMATS = ("wav", "mp3", "ogg")  # formats whose files can be written before they end

app = typer.Typer(help="Synthesis jobs.", no_args_is_help=True)


def say(
    text: Annotated[str, typer.Argument(help="what to say; '-' reads it from standard input")],
    output: Annotated[Path, typer.Option("--output", "-o", help="where to write the audio; its suffix is the format")],
    voice: Annotated[str | None, typer.Option(help="a clone id; default: your active voice")] = None,
    language: Annotated[str | None, typer.Option(help="the text's language; default: the voice's")] = None,
    sample_rate: Annotated[int | None, typer.Option(help="Hz, 8000 to 48000")] = None,
    speed: Annotated[float | None, typer.Option(help="0.5 to 2.0")] = None,
    pitch: Annotated[float | None, typer.Option(help="a ratio, 0.5 to 2.0 (1.0 unchanged)")] = None,
    volume: Annotated[float | None, typer.Option(help="0.0 to 2.0")] = None,
    timeout: Annotated[float, typer.Option(help="seconds to wait at most")] = 600,
    stream: Annotated[
        bool,
        typer.Option(
            "--stream", help="write the audio as each sentence is made (wav, mp3, ogg); '-o -' writes WAV to stdout"
        ),
    ] = False,
    json: JsonOption = False,
) -> None:
    """Synthesize text in a voice and write the audio file, with a progress bar.

    Examples: voxify say "Hello from Voxify." --voice vox_123 -o hello.mp3
              voxify say "Hello from Voxify." --stream -o - | ffplay -nodisp -autoexit -
    """
    to_stdout = stream and str(output) == "-"
    fmt = "wav" if to_stdout else output.suffix.lstrip(".").lower()
    allowed = STREAM_FORMATS if stream else FORMATS
    if fmt not in allowed:
        raise typer.BadParameter(f"the output's suffix must be one of {', '.join(allowed)}", param_hint="--output")
    if to_stdout and json:
        raise typer.BadParameter("--json and '-o -' would both write to stdout", param_hint="--json")
    if stream and (speed, pitch, volume) != (None, None, None):
        raise typer.BadParameter("the stream route takes no speed, pitch or volume", param_hint="--stream")
    options = {
        "voice_model_id": voice,
        "text_language": language,
        "sample_rate": sample_rate,
        "speed": speed,
        "pitch": pitch,
        "volume": volume,
    }
    body: dict[str, Any] = {"text_content": typer.get_text_stream("stdin").read() if text == "-" else text}
    body |= {"output_format": fmt} | {k: v for k, v in options.items() if v is not None}
    client = api()
    if stream:
        with nullcontext(typer.get_binary_stream("stdout")) if to_stdout else output.open("wb") as sink:
            job_id = _stream_into(client, body, sink, timeout)
        job = _finished(client, job_id, timeout)
    else:
        job = _finished(client, client.call("POST", "/api/v1/job", json=body)["job_id"], timeout)
        output.write_bytes(client.download(f"/api/v1/file/synthesis/{job['job_id']}"))
    if not to_stdout:
        emit(job | {"file": str(output)}, json, ["job_id", "status", "duration_seconds", "file"])


def _stream_into(client: ApiClient, job: dict[str, Any], sink: BinaryIO, timeout: float) -> str:
    """Write the job's audio into `sink` chunk by chunk as the API streams it (each chunk
    flushed, so a player reading the pipe starts at once); the job's id."""
    route_body = {
        "text": job["text_content"],
        "voice_id": job.get("voice_model_id"),
        "text_language": job.get("text_language"),
        "config": {key: job[key] for key in ("output_format", "sample_rate") if key in job},
    }
    with client.streamed("POST", "/api/v1/tts/synthesize/stream", json=route_body, timeout=timeout) as response:
        written = 0
        with Progress(TextColumn("{task.description}"), console=errors, transient=True) as bar:
            task = bar.add_task("streaming")
            for chunk in response.iter_bytes():
                sink.write(chunk)
                sink.flush()
                written += len(chunk)
                bar.update(task, description=f"streaming: {written / 1024:.0f} KiB")
        return response.headers["X-Job-Id"]


@app.command("list")
@reports_failures
def list_jobs(
    status: Annotated[str | None, typer.Option(help="pending, processing, completed, failed or cancelled")] = None,
    limit: Annotated[int, typer.Option(help="at most this many, newest first")] = 20,
    json: JsonOption = False,
) -> None:
    """Your jobs, newest first."""
    params: dict[str, Any] = {"limit": limit, "include_text": False} | ({"status": status} if status else {})
    emit(api().call("GET", "/api/v1/job", params=params), json, JOB_COLUMNS)


@app.command()
@reports_failures
def show(job_id: str, json: JsonOption = False) -> None:
    """One job, with its progress, engine and error if any."""
    emit(api().call("GET", f"/api/v1/job/{job_id}"), json, [*JOB_COLUMNS, "error_code", "error_message"])


@app.command()
@reports_failures
def watch(
    job_id: str,
    timeout: Annotated[float, typer.Option(help="seconds to wait at most")] = 600,
    json: JsonOption = False,
) -> None:
    """Follow a job to its end with a progress bar; exit code 3 if it fails or is cancelled."""
    emit(_finished(api(), job_id, timeout), json, JOB_COLUMNS)


@app.command()
@reports_failures
def cancel(job_id: str, json: JsonOption = False) -> None:
    """Cancel a job that has not finished."""
    emit(api().call("POST", f"/api/v1/job/{job_id}/cancel"), json, JOB_COLUMNS)


def _finished(client: ApiClient, job_id: str, timeout: float) -> dict[str, Any]:
    job = wait_for(
        lambda: client.call("GET", f"/api/v1/job/{job_id}"),
        lambda record: record["status"] in FINISHED,
        lambda record: (float(record.get("progress") or 0), 100.0),
        job_id,
        timeout,
    )
    if job["status"] != "completed":
        raise WorkEnded(f"job {job_id} {job['status']}: {job.get('error_code')} {job.get('error_message') or ''}")
    return job
