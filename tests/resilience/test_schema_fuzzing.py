"""Property-based fuzzing of the HTTP API from its own /openapi.json (schemathesis).

Schemathesis reads the document the app serves and, for every operation, generates requests
(valid ones, and deliberately invalid ones) that are sent in-process to the very app object
the `api` TestClient wraps (same process, same emulated AWS), authenticated as the
registered user `alice` (the admin routes as an administrator). Every answer is checked:

* no server error: no 5xx, and no exception escaping the app;
* the status code is one the operation documents;
* the Content-Type is one documented for that status;
* documented response headers, and the body, conform to the documented schema.

Error envelopes (400/401/403/404/409/413/415/422/429) are fine *when the operation documents
them*; a status the document does not list is a conformance failure reported here, not
silenced: fix the document (or the app), not this test.

Random ids only ever reach "not found", so alice also owns a few real resources (a sample, a
ready and active clone, a pending and a completed job, a webhook, an API key, a voice
search), and path parameters are drawn from those as well as generated.

Every operation runs its examples to the end and collects each distinct failure with a
request that reproduces it (a frequent failure cannot hide a rarer one); the test fails
with one subtest per failing operation and a summary.

Speed: `VOXIFY_FUZZ_EXAMPLES` is Hypothesis' examples per operation (default 10, and then
derandomized, so the normal suite sends the same requests each run). A long, randomized run:

    VOXIFY_FUZZ_EXAMPLES=100 .venv/bin/python -m pytest tests/resilience/test_schema_fuzzing.py
"""

from __future__ import annotations

import itertools
import os
import re
import traceback
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation.feedback import NO_FEEDBACK
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.fixtures.api import make_admin, register, reset_caches, wav_bytes
from tests.fixtures.jobs import complete
from tests.fixtures.voices import ready_clone

DEFAULT_EXAMPLES = 10
FUZZ_EXAMPLES = int(os.environ.get("VOXIFY_FUZZ_EXAMPLES", DEFAULT_EXAMPLES))
# The normal suite sends the same requests every run: Hypothesis derandomized, and without
# schemathesis' pool of string constants harvested from the app's modules, whose order
# follows Python's per-process string hashing. Long runs are random and use that pool.
DERANDOMIZE = "VOXIFY_FUZZ_EXAMPLES" not in os.environ
STRATEGY_OPTIONS = {"feedback": NO_FEEDBACK} if DERANDOMIZE else {}

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

ADMIN_EMAIL = "root@example.com"

# Settings of the app under fuzzing, applied before the app and the users are created.
FUZZ_ENVIRONMENT = {
    # The per-user limit (100/min by default) would turn most of the run into 429s, which
    # tests the limiter, not the operations. The daily quotas likewise.
    "VOXIFY_RATE_LIMIT_PER_MINUTE": "100000",
    "VOXIFY_DAILY_SAMPLE_QUOTA": "1000000",
    "VOXIFY_DAILY_JOB_QUOTA": "1000000",
    # No worker runs in-process: the synchronous routes (/tts/synthesize,
    # /voice/clones/{id}/synthesize, /voice/search, /voice/clones/{id}/similar,
    # /watermark/detect) would wait ~20 s / ~10 s per valid request for a worker that never
    # comes, then answer their documented 202. Answer that 202 at once.
    "VOXIFY_SYNC_WAIT_SECONDS": "0",
    "VOXIFY_SEARCH_WAIT_SECONDS": "0",
    "VOXIFY_DETECTION_WAIT_SECONDS": "0",
    # The streaming routes (/tts/synthesize/stream, /v1/audio/speech with stream_format) follow
    # their job's chunks until it ends; with no worker, end each stream after its header.
    "VOXIFY_STREAM_MAX_SECONDS": "0.01",
}

# Excluded operations, and why:
# * GET /api/v1/job/{job_id}/progress is a Server-Sent-Events stream that polls the job until
#   it ends or for VOXIFY_SSE_MAX_SECONDS (25 s): fuzzing it measures the stream's timer, not
#   the API, and an in-process client has no reconnecting EventSource. Its error paths
#   (unknown job, no auth) are the `jobs.get_job` of GET /api/v1/job/{job_id}, fuzzed here.
# Not excluded: the presigned-S3 downloads (GET /api/v1/file/synthesis/{job_id}[/blocks/{i}],
# GET /api/v1/library/{type}/{id}/download). Schemathesis does not follow redirects, so their
# documented 302 is checked as such and the emulator's URL is never fetched.
# the progress stream runs until its job ends; logout-all would end the fuzzing user's session,
# and deleting the account would end the user
EXCLUDED = {
    ("GET", "/api/v1/job/{job_id}/progress"),
    ("POST", "/api/v1/auth/logout-all"),
    ("DELETE", "/api/v1/auth/account"),
}


@pytest.fixture
def fuzz_environment(stack, monkeypatch):
    """Fuzz-friendly limits; requested before `api`, and caches dropped so they take effect."""
    for name, value in FUZZ_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    reset_caches()
    yield
    reset_caches()  # settings cached from this environment must not outlive the test


@pytest.fixture
def fuzz_schema(fuzz_environment, api):
    """The schema the app serves, bound to the app object the `api` TestClient wraps."""
    served = api.get("/openapi.json")
    assert served.status_code == 200, served.text
    return schemathesis.openapi.from_asgi("/openapi.json", api.app)


@pytest.fixture
def admin(fuzz_environment, api):
    """An administrator (verified, then granted by the operator command), so the admin routes
    get past their 403."""
    user = make_admin(api, ADMIN_EMAIL)
    assert user.get("/api/v1/admin/config").status_code == 200
    return user


@pytest.fixture
def known_ids(fuzz_environment, alice, api):
    """Real resources of alice's (and a bystander's account): path-parameter names -> values."""
    clone = ready_clone(alice)
    assert alice.post(f"/api/v1/voice/clones/{clone}/select").status_code == 200
    sample = alice.get("/api/v1/voice/samples").json()["data"][0]["sample_id"]
    pending = created(alice.post("/api/v1/job", json={"text_content": "Waiting.", "voice_model_id": clone}))
    done = created(
        alice.post("/api/v1/job", json={"blocks": [{"text": "First."}, {"text": "Second."}], "voice_model_id": clone})
    )
    complete(done, b"RIFF fuzz audio", blocks=2, word="first")  # no worker runs in-process
    webhook = created(alice.post("/api/v1/webhooks", json={"url": "https://example.com/hook"}))
    key = created(alice.post("/api/v1/api-keys", json={"name": "fuzz"}))
    search = alice.post("/api/v1/voice/search", files={"file": ("q.wav", wav_bytes(), "audio/wav")})
    assert search.status_code in (200, 202), search.text
    bystander = register(api, "carol@example.com")
    return {
        ("sample_id",): [(sample,)],
        ("clone_id",): [(clone,)],
        ("job_id",): [(pending["job_id"],), (done["job_id"],)],
        ("index",): [(0,), (1,)],
        ("webhook_id",): [(webhook["webhook_id"],)],
        ("key_id",): [(key["key_id"],)],
        ("search_id",): [(search.json()["data"]["search_id"],)],
        ("user_id",): [(bystander.user_id,)],
        ("item_type", "item_id"): [("sample", sample), ("audio", done["job_id"])],
    }


def created(response):
    assert response.status_code == 201, response.text
    return response.json()["data"]


def ordered(schema):
    """The operations to fuzz, those that destroy shared state last.

    Deletes would take the known resources away from the operations after them; an admin's
    PUT /admin/config can lower the global rate limit or quotas for everyone after it.
    """
    operations = []
    for result in schema.get_all_operations():
        operation = result.ok()  # an operation the document cannot describe is a failure too
        if (operation.method.upper(), operation.path) not in EXCLUDED:
            operations.append(operation)

    def rank(operation):
        if operation.path == "/api/v1/admin/config" and operation.method.upper() == "PUT":
            return 3
        if operation.path.startswith("/api/v1/admin/"):
            return 2
        return 1 if operation.method.upper() == "DELETE" else 0

    return sorted(operations, key=rank)  # stable: document order within a rank


def seeded_path_parameters(path, known):
    """Every combination of real values for the path's parameters (the others are generated)."""
    names = set(re.findall(r"{(\w+)}", path))
    groups = [
        [dict(zip(group, values, strict=False)) for values in choices]
        for group, choices in known.items()
        if names.issuperset(group)
    ]
    if not groups:
        return []
    return [{name: value for part in combo for name, value in part.items()} for combo in itertools.product(*groups)]


def fuzz(operation, headers, known):
    """Hypothesis over one operation: valid and invalid requests, every answer checked.

    Failures are collected, not raised, so one frequent failure (say an undocumented 404)
    cannot stop the search before it reaches a rarer one (a 500). Returns a report of each
    distinct failure with a request that reproduces it, or "" when there was none.
    """
    seeded = [None, *seeded_path_parameters(operation.path, known)]
    strategies = [
        operation.as_strategy(generation_mode=mode, path_parameters=path_parameters, **STRATEGY_OPTIONS)
        for path_parameters in seeded
        for mode in GenerationMode
    ]
    findings: dict[object, str] = {}
    statuses: Counter[int] = Counter()

    @settings(
        max_examples=FUZZ_EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,  # no example database: a failure is reported with its reproducer
        derandomize=DERANDOMIZE,
    )
    @given(case=st.one_of(strategies))
    def run(case):
        reproduce = case.as_curl_command(headers=headers)  # the token shows as [Filtered]
        try:
            response = case.call(headers=headers)
        except Exception as error:
            # Starlette answers 500 and then re-raises an unhandled exception; in-process
            # that arrives here, with the line of the app that raised it.
            where = app_frame(error)
            message = one_line(str(error))
            findings.setdefault(
                ("unhandled", type(error).__name__, where),
                (f"500 unhandled {type(error).__name__} at {where}: {message[:400]}\n      reproduce: {reproduce}"),
            )
            return
        statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except FailureGroup as group:
            for failure in group.exceptions:
                message = one_line(failure.message)
                findings.setdefault(
                    failure,
                    (
                        f"{getattr(failure, 'code', '')} {failure.title} "
                        f"[{', '.join(getattr(failure, 'checks', ()))}]: {message[:500]}\n"
                        f"      response: {response.status_code} {response.text[:300]}\n"
                        f"      reproduce: {reproduce[:1500]}"
                    ),
                )

    run()
    if not findings:
        return ""
    seen = ", ".join(f"{status}x{count}" for status, count in sorted(statuses.items()))
    return f"{operation.label} (statuses seen: {seen})\n" + "\n".join(
        f"  - {text}" for text in sorted(findings.values())
    )


def one_line(text):
    return " / ".join(line.strip() for line in text.splitlines() if line.strip())


def app_frame(error):
    """file:line of the innermost frame in Voxify's own code, else the innermost frame."""
    frames = traceback.extract_tb(error.__traceback__)
    ours = [f for f in frames if "/voxify/" in f.filename and "site-packages" not in f.filename]
    frame = (ours or frames or [None])[-1]
    return f"{frame.filename}:{frame.lineno} ({frame.name})" if frame else "?"


# One pytest test with a subtest per operation, so that every operation runs and reports even
# when others fail, over a stack and users set up once. Not schemathesis' own pytest wiring:
# `schemathesis.pytest.from_fixture(...).parametrize()` fails under pytest 9.2 ("'Function'
# object has no attribute '_nodeid'", schemathesis 4.32.5), and the eager
# `schema.parametrize()` would provision the stack and register users once per operation
# (~2 s each, 63 operations). Hypothesis drives each operation's public `as_strategy()`.
def test_api_conforms_to_its_schema(fuzz_schema, alice, admin, known_ids, subtests):
    reports = {}
    operations = ordered(fuzz_schema)
    assert len(operations) > 50, f"only {len(operations)} operations in /openapi.json"
    for operation in operations:
        user = admin if operation.path.startswith("/api/v1/admin/") else alice
        known = dict(known_ids)
        if "{job_id}" in operation.path:
            # a pending job of its own: an earlier operation may have cancelled the shared one
            fresh = alice.post("/api/v1/job", json={"text_content": "Fresh.", "pitch": 1.5})
            if fresh.status_code == 201:  # not once the active voice is deleted
                known[("job_id",)] = [(fresh.json()["data"]["job_id"],), *known[("job_id",)]]
        with subtests.test(msg=operation.label):
            report = fuzz(operation, user.headers, known)
            if report:
                reports[operation.label] = report
                pytest.fail(report, pytrace=False)
    if reports:
        summary = "\n".join(
            line for report in reports.values() for line in report.splitlines() if not line.startswith("      ")
        )  # without responses and reproducers
        pytest.fail(
            f"{len(reports)} of {len(operations)} operations failed (details in the subtests above):\n{summary}",
            pytrace=False,
        )
