"""Where the CLI keeps who it is signed in as: one JSON file in the user's config dir,
readable by its owner only (it holds a refresh token or an API key)."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_config_dir
from pydantic import BaseModel

DEFAULT_API_URL = "http://127.0.0.1:8000"


class Profile(BaseModel):
    """The service and the credentials the next command uses."""

    api_url: str = DEFAULT_API_URL
    access_token: str | None = None
    refresh_token: str | None = None
    api_key: str | None = None


def config_path() -> Path:
    """`VOXIFY_CONFIG_DIR` (scripts, tests) or the platform's config dir for `voxify`."""
    return Path(os.environ.get("VOXIFY_CONFIG_DIR") or user_config_dir("voxify")) / "config.json"


def load_profile() -> Profile:
    """The saved profile; `VOXIFY_API_URL` and `VOXIFY_API_KEY` override it for one run."""
    path = config_path()
    profile = Profile.model_validate_json(path.read_text()) if path.exists() else Profile()
    overrides = {"api_url": os.environ.get("VOXIFY_API_URL"), "api_key": os.environ.get("VOXIFY_API_KEY")}
    return profile.model_copy(update={k: v for k, v in overrides.items() if v})


def save_profile(profile: Profile) -> Path:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(profile.model_dump_json(indent=2))
    path.chmod(0o600)  # also when the file existed with wider permissions
    return path
