"""FastAPI application factory.

One app serves both worlds: `uvicorn` on 127.0.0.1:8000 in the local stack and Mangum
behind API Gateway's HTTP API in the cloud (functions/api/handler.py).
"""

from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from voxify import __version__
from voxify.http.envelope import Envelope, ok
from voxify.settings import get_settings

DESCRIPTION = """
Voxify turns a few seconds of a consenting speaker's voice into a voice clone and
synthesises any text in that voice. Every response uses one envelope:
`{success, data, message, error{code, message, details}, meta, timestamp}`.
"""


def create_app() -> FastAPI:
    settings = get_settings()
    app = FastAPI(
        title="Voxify",
        version=__version__,
        description=DESCRIPTION,
        docs_url="/docs",
        redoc_url="/redoc",
        openapi_url="/openapi.json",
    )
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_allow_origins,
        allow_methods=["*"],
        allow_headers=["*"],
    )

    @app.get("/health", response_model=Envelope[dict[str, Any]], tags=["info"])
    def health() -> dict:
        """Liveness: answers without authentication and without touching AWS."""
        return ok({"status": "ok", "version": __version__, "stage": settings.stage})

    return app
