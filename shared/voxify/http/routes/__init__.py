"""The routers of the HTTP API, in the order /docs lists them, each mounted when first needed.

Importing a router's module builds its models and analyses its routes, most of the API
function's cold start. So the app mounts a module's routers only when a request's path starts
with one of the prefixes listed for it here (or when the OpenAPI document is made): a cold
function imports what its first request can reach, not the whole API. A route resolves as it
would with every router mounted, since routers keep the order of this list and none outside
the mounted ones can match the path (tests check every route against its prefixes).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from fastapi import APIRouter, FastAPI
from starlette._utils import get_route_path
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send


@dataclass(frozen=True)
class RouterModule:
    """A module whose routers (attributes, in order; a list attribute holds several) serve
    only paths under `prefixes` (no trailing slash, so a redirect to add one stays under it)."""

    module: str
    attributes: tuple[str, ...]
    prefixes: tuple[str, ...]

    def routers(self) -> list[APIRouter]:
        module = importlib.import_module(self.module)
        values = [getattr(module, name) for name in self.attributes]
        return [router for value in values for router in (value if isinstance(value, list) else [value])]

    def serves(self, path: str) -> bool:
        return path.startswith(self.prefixes)


_ROUTES = "voxify.http.routes"
ROUTER_MODULES = (
    RouterModule(f"{_ROUTES}.auth", ("router",), ("/api/v1/auth", "/api/v1/api-keys")),
    RouterModule(f"{_ROUTES}.voices", ("router",), ("/api/v1/voice",)),
    RouterModule(f"{_ROUTES}.watermark", ("router",), ("/api/v1/watermark",)),
    RouterModule(f"{_ROUTES}.jobs", ("router", "plural"), ("/api/v1/job",)),
    RouterModule(f"{_ROUTES}.batches", ("router",), ("/api/v1/batches",)),
    RouterModule(f"{_ROUTES}.webhooks", ("router",), ("/api/v1/webhooks",)),
    RouterModule(f"{_ROUTES}.files", ("router",), ("/api/v1/file",)),
    RouterModule(f"{_ROUTES}.tts", ("router",), ("/api/v1/tts", "/v1/audio/speech")),
    RouterModule(f"{_ROUTES}.library", ("router",), ("/api/v1/library",)),
    RouterModule(f"{_ROUTES}.info", ("router",), ("/api/v1/voice",)),
    RouterModule(f"{_ROUTES}.admin", ("router",), ("/api/v1/admin",)),
    RouterModule(f"{_ROUTES}.compat.voices_api", ("router",), ("/voices",)),
    RouterModule(f"{_ROUTES}.compat.tts_jobs", ("router", "jobs_router"), ("/token", "/tts", "/status", "/result")),
    RouterModule(
        f"{_ROUTES}.compat.studio", ("ROUTERS",), ("/api/auth", "/api/samples", "/api/generation", "/api/library")
    ),
    RouterModule("voxify.http.studio_site", ("router",), ("/studio",)),  # the browser app
)


class OnDemandRouters:
    """Mounts ROUTER_MODULES into `app` as paths need them, after the routes `app` has now."""

    def __init__(self, app: FastAPI) -> None:
        self._app = app
        self._base = list(app.router.routes)
        self._mounted: dict[int, list[BaseRoute]] = {}

    def mount_for(self, path: str) -> None:
        """Mount every module that has a route `path` might reach."""
        self._mount([index for index, module in enumerate(ROUTER_MODULES) if module.serves(path)])

    def mount_all(self) -> None:
        self._mount(range(len(ROUTER_MODULES)))

    def _mount(self, indexes: list[int] | range) -> None:
        missing = [index for index in indexes if index not in self._mounted]
        if not missing:
            return
        routes = self._app.router.routes
        for index in missing:
            before = len(routes)
            for router in ROUTER_MODULES[index].routers():
                self._app.include_router(router)
            self._mounted[index] = routes[before:]
        routes[:] = self._base + [route for index in sorted(self._mounted) for route in self._mounted[index]]


class MountRouters:
    """ASGI middleware: before a request is routed, mount the routers its path may reach."""

    def __init__(self, app: ASGIApp, routers: OnDemandRouters) -> None:
        self.app = app
        self.routers = routers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            self.routers.mount_for(get_route_path(scope))
        await self.app(scope, receive, send)
