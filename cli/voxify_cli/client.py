"""The API as the CLI sees it: the `data` of each envelope, or an `ApiError` carrying the
envelope's code and message. An expired access token is refreshed once, transparently."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from voxify_cli.config import Profile, save_profile

TIMEOUT_SECONDS = 60.0


class ApiError(Exception):
    """The service refused or failed a request; `code` is its stable error code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class Unreachable(Exception):
    """No answer from the service at all (wrong URL, not running, network down)."""


class ApiClient:
    def __init__(self, profile: Profile, transport: httpx.BaseTransport | None = None) -> None:
        self.profile = profile
        self._http = httpx.Client(base_url=profile.api_url, timeout=TIMEOUT_SECONDS, transport=transport)

    def call(self, method: str, path: str, **request: Any) -> Any:
        """The answer's `data`; raises ApiError for a 4xx/5xx envelope."""
        response = self.send(method, path, **request)
        return response.json().get("data")

    def send(self, method: str, path: str, **request: Any) -> httpx.Response:
        response = self._send_once(method, path, **request)
        if response.status_code == 401 and self.profile.refresh_token and self._refresh():
            response = self._send_once(method, path, **request)
        if response.status_code >= 400:
            raise error_of(response)
        return response

    @contextmanager
    def streamed(self, method: str, path: str, **request: Any) -> Iterator[httpx.Response]:
        """An open response whose body arrives as it is made (`iter_bytes`); refused requests
        raise as `send` does. The first attempt is read as a whole only when it is refused."""
        for attempt in range(2):
            try:
                with self._http.stream(method, path, headers=self._auth_headers(), **request) as response:
                    if response.status_code == 401 and attempt == 0 and self.profile.refresh_token and self._refresh():
                        continue
                    if response.status_code >= 400:
                        response.read()
                        raise error_of(response)
                    yield response
                    return
            except httpx.TransportError as error:
                raise Unreachable(f"{self.profile.api_url} stopped answering ({type(error).__name__})") from error

    def download(self, path: str) -> bytes:
        """A file route's bytes, following its redirect to storage (credentials are not sent
        to another origin)."""
        response = self.send("GET", path, follow_redirects=True)
        return response.content

    def _send_once(self, method: str, path: str, **request: Any) -> httpx.Response:
        try:
            return self._http.request(method, path, headers=self._auth_headers(), **request)
        except httpx.TransportError as error:
            raise Unreachable(f"{self.profile.api_url} did not answer ({type(error).__name__})") from error

    def _auth_headers(self) -> dict[str, str]:
        credential = self.profile.api_key or self.profile.access_token  # an API key is a bearer too
        return {"Authorization": f"Bearer {credential}"} if credential else {}

    def _refresh(self) -> bool:
        """Trade the refresh token for a new pair and keep it; False when it is no longer good."""
        answer = self._http.post("/api/v1/auth/refresh", json={"refresh_token": self.profile.refresh_token})
        if answer.status_code != 200:
            return False
        tokens = answer.json()["data"]
        self.profile = self.profile.model_copy(
            update={"access_token": tokens["access_token"], "refresh_token": tokens["refresh_token"]}
        )
        save_profile(self.profile)
        return True


def error_of(response: httpx.Response) -> ApiError:
    """The envelope's error, or the bare status when the body is not an envelope."""
    try:
        error = response.json().get("error") or {}
    except ValueError:
        error = {}
    return ApiError(response.status_code, error.get("code", f"HTTP_{response.status_code}"), error.get("message", ""))
