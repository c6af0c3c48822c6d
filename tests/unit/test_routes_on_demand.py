"""The API's routers are mounted as requests reach them, and resolve as if all were mounted."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from voxify.http.app import create_app
from voxify.http.routes import ROUTER_MODULES, RouterModule


def route_paths(router: APIRouter) -> list[str]:
    return [str(getattr(route, "path", "")) for route in router.routes]


@pytest.mark.parametrize("module", ROUTER_MODULES, ids=lambda module: module.module)
def test_every_route_lives_under_its_modules_prefixes(module: RouterModule) -> None:
    assert not any(prefix.endswith("/") for prefix in module.prefixes)
    for router in module.routers():
        for path in route_paths(router):
            assert module.serves(path), f"{path} is not under {module.prefixes}"


def test_a_request_mounts_only_what_its_path_can_reach() -> None:
    app = create_app()
    client = TestClient(app)
    unmounted = len(app.router.routes)
    assert client.get("/health").status_code == 200
    assert len(app.router.routes) == unmounted
    assert client.get("/api/v1/admin/stats").status_code == 401
    with_admin = len(app.router.routes)
    assert with_admin > unmounted
    assert client.get("/api/v1/admin/users").status_code == 401
    assert len(app.router.routes) == with_admin


def test_routers_keep_the_documented_order_whatever_mounts_first() -> None:
    app = create_app()
    client = TestClient(app)
    for path in ("/studio/", "/voices", "/api/v1/admin/stats", "/api/v1/auth/login"):
        client.get(path)
    every_router = FastAPI()
    for module in ROUTER_MODULES:
        for router in module.routers():
            every_router.include_router(router)
    assert list(app.openapi()["paths"]) == ["/health", *every_router.openapi()["paths"]]


def test_unknown_paths_answer_the_error_envelope() -> None:
    response = TestClient(create_app()).get("/nowhere")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


def test_the_openapi_document_lists_every_router() -> None:
    document = TestClient(create_app()).get("/openapi.json").json()
    for module in ROUTER_MODULES[:-1]:  # the studio's pages are not documented
        for router in module.routers():
            assert any(path.startswith(module.prefixes) for path in document["paths"]), module.module
            assert router.routes
