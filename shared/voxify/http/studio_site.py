"""Voxify Studio: the browser app at /studio, served from files shipped inside the package.

The studio is plain HTML, CSS and ES modules (no build step), so the API function serves it
as it serves everything else and it works offline. Every answer carries a strict
Content-Security-Policy: scripts and styles only from this origin, never inline.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from urllib.parse import urlsplit

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response

from voxify.errors import ErrorCode, VoxifyError
from voxify.settings import get_settings

ROOT = files("voxify") / "http" / "studio"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
# Where a large download's presigned URL points: the emulator locally, S3 in the cloud.
CLOUD_S3_ORIGIN = "https://*.amazonaws.com"

router = APIRouter(include_in_schema=False)


@router.get("/studio")
def studio_root() -> RedirectResponse:
    """Relative module imports resolve against the page's URL: it must end with a slash."""
    return RedirectResponse("/studio/", status_code=308)


@router.get("/studio/")
def studio_index() -> Response:
    return asset("index.html")


@router.get("/studio/{path:path}")
def studio_asset(path: str) -> Response:
    return asset(path)


def asset(path: str) -> Response:
    """One of the shipped files; any other path (traversal included) is a 404."""
    found = shipped_files().get(path)
    if found is None:
        raise VoxifyError(ErrorCode.NOT_FOUND, "no such studio file")
    suffix = "." + path.rsplit(".", 1)[-1]
    return Response(found.read_bytes(), media_type=CONTENT_TYPES[suffix], headers=security_headers())


@cache
def shipped_files() -> dict[str, Traversable]:
    """The studio's files by their path under /studio/, listed once from the package."""
    found: dict[str, Traversable] = {}
    pending: list[tuple[str, Traversable]] = [("", ROOT)]
    while pending:
        prefix, folder = pending.pop()
        for entry in folder.iterdir():
            if entry.is_dir():
                pending.append((f"{prefix}{entry.name}/", entry))
            elif any(entry.name.endswith(suffix) for suffix in CONTENT_TYPES):
                found[prefix + entry.name] = entry
    return found


@cache
def security_headers() -> dict[str, str]:
    policy = "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "media-src 'self' blob:",
            f"connect-src 'self' {storage_origin()}",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )
    return {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Permissions-Policy": "microphone=(self), camera=(), geolocation=()",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cache-Control": "no-cache",
    }


def storage_origin() -> str:
    """The origin of presigned audio URLs (files over 4 MiB are fetched from there)."""
    endpoint = get_settings().aws_endpoint_url
    if not endpoint:
        return CLOUD_S3_ORIGIN
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc}"
