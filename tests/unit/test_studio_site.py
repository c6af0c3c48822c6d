"""The studio's files as the API serves them: every shipped file, strict headers, nothing else."""

import re

import pytest
from fastapi.testclient import TestClient

from voxify.http.app import create_app
from voxify.http.studio_site import shipped_files


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(), follow_redirects=False)


def test_studio_redirects_to_its_folder_and_serves_the_page(client):
    assert client.get("/studio").headers["location"] == "/studio/"
    page = client.get("/studio/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="js/main.js">' in page.text


def test_every_script_the_page_imports_is_shipped(client):
    files = shipped_files()
    imported = {"js/main.js"}
    for name in [n for n in files if n.endswith(".js")]:
        imported |= {f"js/{m}" for m in re.findall(r'from "\./([\w.]+\.js)"', files[name].read_text())}
    assert imported <= set(files), imported - set(files)
    for name in imported:
        answer = client.get(f"/studio/{name}")
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/javascript")


def test_headers_forbid_inline_script_and_framing(client):
    headers = client.get("/studio/studio.css").headers
    policy = headers["content-security-policy"]
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy and "default-src 'none'" in policy
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize("path", ["../app.py", "..%2fapp.py", "js/../../app.py", "missing.js", "index.html.bak"])
def test_only_shipped_files_are_served(client, path):
    answer = client.get(f"/studio/{path}")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "NOT_FOUND"


def test_no_inline_script_or_style_in_the_page():
    page = shipped_files()["index.html"].read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)", page) and "<style" not in page and " style=" not in page
    assert "http://" not in page and "https://" not in page  # nothing from a CDN
