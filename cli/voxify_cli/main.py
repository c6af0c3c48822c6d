"""The `voxify` command: sign in, then voices, speech, jobs, batches, events and checks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from voxify_cli import batches, events, jobs, voices
from voxify_cli.client import ApiClient
from voxify_cli.config import Profile, load_profile, save_profile
from voxify_cli.output import EXIT_CODES_HELP, JsonOption, api, emit, reports_failures
from voxify_cli.waiting import wait_for

app = typer.Typer(
    help="Voxify from the command line. Start with `voxify login`.",
    no_args_is_help=True,
    epilog=EXIT_CODES_HELP,
)
app.add_typer(voices.app, name="voices")
app.add_typer(jobs.app, name="jobs")
app.add_typer(batches.app, name="batch")
app.add_typer(events.app, name="events")
app.command()(reports_failures(jobs.say))


@app.command()
@reports_failures
def login(
    email: Annotated[str | None, typer.Option(help="sign in with e-mail and password (prompted)")] = None,
    api_key: Annotated[
        str | None, typer.Option("--api-key", help="or keep an API key (vx_...) instead of a session")
    ] = None,
    api_url: Annotated[str | None, typer.Option(help="the service's address, e.g. https://voxify.example.com")] = None,
) -> None:
    """Sign in and remember it in your config dir (readable by you only).

    Example: voxify login --email me@example.com --api-url http://127.0.0.1:8000
    """
    profile = load_profile()
    profile = Profile(api_url=api_url or profile.api_url)
    if api_key:
        profile.api_key = api_key
        ApiClient(profile).call("GET", "/api/v1/auth/profile")  # refuse a key that does not work
    else:
        email = email or typer.prompt("E-mail")
        password = typer.prompt("Password", hide_input=True)
        tokens = ApiClient(profile).call("POST", "/api/v1/auth/login", json={"email": email, "password": password})
        profile.access_token, profile.refresh_token = tokens["access_token"], tokens["refresh_token"]
    typer.echo(f"signed in to {profile.api_url}; saved in {save_profile(profile)}")


@app.command()
@reports_failures
def logout() -> None:
    """End this session on the service and forget it here."""
    profile = load_profile()
    if profile.refresh_token:
        ApiClient(profile).call("POST", "/api/v1/auth/logout", json={"refresh_token": profile.refresh_token})
    save_profile(Profile(api_url=profile.api_url))
    typer.echo("signed out")


@app.command()
@reports_failures
def detect(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="an audio file")],
    timeout: Annotated[float, typer.Option(help="seconds to wait at most")] = 120,
    json: JsonOption = False,
) -> None:
    """Check whether audio carries Voxify's watermark.

    Example: voxify detect suspicious.mp3
    """
    client = api()
    files = {"file": (file.name, file.read_bytes(), "application/octet-stream")}
    detection = client.call("POST", "/api/v1/watermark/detect", files=files)
    path = f"/api/v1/watermark/detections/{detection['detection_id']}"
    detection = wait_for(
        lambda: client.call("GET", path), lambda d: d["status"] != "pending", lambda d: (0.0, 1.0), "check", timeout
    )
    emit(detection, json, ["detection_id", "status", "marked", "confidence", "scheme", "error"])
