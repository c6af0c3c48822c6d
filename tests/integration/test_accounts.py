"""Sessions end when they should, roles come only out of band, the unauthenticated auth routes
are throttled, and API keys have scopes and expiry and never mint keys."""

import base64
import json
import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from fastapi.testclient import TestClient

from tests.fixtures.api import PASSWORD, register, reset_caches, sent_token, verify_email
from tests.fixtures.lambda_events import http_api_event, lambda_context
from voxify.aws import resource
from voxify.domain.users import DEFAULT_SCOPES, Role, Scope
from voxify.logic.auth import Principal
from voxify.manage import main as manage

NEW_PASSWORD = "a brand new passphrase 7"


def error_code(response):
    return response.json()["error"]["code"]


def login(client, email, password=PASSWORD):
    response = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return response.json()["data"]


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def assert_session_over(api, tokens):
    """Neither the access token nor the refresh token of `tokens` works any more."""
    profile = api.get("/api/v1/auth/profile", headers=bearer(tokens["access_token"]))
    assert profile.status_code == 401 and error_code(profile) == "SESSION_REVOKED"
    refreshed = api.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 401 and error_code(refreshed) == "SESSION_REVOKED"


# ---- sessions


def test_a_password_reset_ends_every_other_session(api, alice):
    other_device = login(api, alice.email)
    assert api.post("/api/v1/auth/forgot-password", json={"email": alice.email}).status_code == 202
    token = sent_token(alice.email, "Reset")
    reset = api.post("/api/v1/auth/reset-password", json={"token": token, "new_password": NEW_PASSWORD})
    assert reset.status_code == 200, reset.text
    assert_session_over(api, other_device)
    assert_session_over(api, {"access_token": alice.access_token, "refresh_token": alice.refresh_token})
    fresh = login(api, alice.email, NEW_PASSWORD)
    assert api.get("/api/v1/auth/profile", headers=bearer(fresh["access_token"])).status_code == 200
    assert api.post("/api/v1/auth/refresh", json={"refresh_token": fresh["refresh_token"]}).status_code == 200


def test_logout_all_ends_every_session_but_not_api_keys(api, alice, bob):
    other_device = login(api, alice.email)
    key = alice.post("/api/v1/api-keys", json={"name": "ci"}).json()["data"]["key"]
    signed_out = alice.post("/api/v1/auth/logout-all")
    assert signed_out.status_code == 200, signed_out.text
    assert_session_over(api, other_device)
    assert_session_over(api, {"access_token": alice.access_token, "refresh_token": alice.refresh_token})
    assert bob.get("/api/v1/auth/profile").status_code == 200  # someone else's session goes on
    assert api.get("/api/v1/auth/profile", headers=bearer(key)).status_code == 200  # keys are revoked one by one
    fresh = login(api, alice.email)
    assert api.get("/api/v1/auth/profile", headers=bearer(fresh["access_token"])).status_code == 200


def test_rotated_refresh_tokens_keep_the_familys_first_expiry(api, alice, monkeypatch):
    import voxify.logic.auth as auth_logic

    started = int(time.time()) - 1000  # the login happened a while ago
    with monkeypatch.context() as patched:
        patched.setattr(auth_logic, "epoch", lambda: started)
        first = login(api, alice.email)["refresh_token"]
    family_expiry = jwt.decode(first, options={"verify_signature": False})["exp"]
    assert family_expiry == started + 30 * 86400

    token = first
    for _ in range(2):
        rotated = api.post("/api/v1/auth/refresh", json={"refresh_token": token})
        assert rotated.status_code == 200, rotated.text
        token = rotated.json()["data"]["refresh_token"]
        claims = jwt.decode(token, options={"verify_signature": False})
        assert claims["exp"] == family_expiry and claims["iat"] > started

    # replaying a spent token revokes the family, and the revocation lasts as long as the family
    replay = api.post("/api/v1/auth/refresh", json={"refresh_token": first})
    assert replay.status_code == 401 and error_code(replay) == "TOKEN_REUSED"
    family = jwt.decode(first, options={"verify_signature": False})["fam"]
    table = resource("dynamodb").Table("voxify-local-data")
    revoked = table.get_item(Key={"pk": f"FAMILY#{family}", "sk": "REVOKED"})["Item"]
    assert int(revoked["expires_at"]) == family_expiry
    latest = api.post("/api/v1/auth/refresh", json={"refresh_token": token})
    assert latest.status_code == 401 and error_code(latest) == "SESSION_REVOKED"


# ---- verification and roles


def test_registering_an_address_formerly_in_admin_emails_grants_nothing(api, monkeypatch):
    monkeypatch.setenv("VOXIFY_ADMIN_EMAILS", '["root@example.com"]')  # the setting is gone
    reset_caches()
    root = register(api, "root@example.com")
    profile = root.get("/api/v1/auth/profile").json()["data"]
    assert profile["role"] == "user" and profile["email_verified"] is False
    assert jwt.decode(root.access_token, options={"verify_signature": False})["role"] == "user"
    stats = root.get("/api/v1/admin/stats")
    assert stats.status_code == 403 and error_code(stats) == "FORBIDDEN"


def test_email_verification_by_mailed_token(api, alice):
    assert alice.get("/api/v1/auth/profile").json()["data"]["email_verified"] is False
    token = sent_token(alice.email, "Confirm")
    assert token
    verified = api.post("/api/v1/auth/verify-email", json={"token": token})
    assert verified.status_code == 200 and verified.json()["data"]["email_verified"] is True
    again = api.post("/api/v1/auth/verify-email", json={"token": token})
    assert again.status_code == 400 and error_code(again) == "INVALID_VERIFICATION_TOKEN"
    unknown = api.post("/api/v1/auth/verify-email", json={"token": "not-a-token"})
    assert unknown.status_code == 400 and error_code(unknown) == "INVALID_VERIFICATION_TOKEN"
    resend = alice.post("/api/v1/auth/verify-email/resend")
    assert resend.status_code == 202 and "already verified" in resend.json()["message"]


def test_resend_mails_a_fresh_verification_token(api, alice):
    first = sent_token(alice.email, "Confirm")
    assert alice.post("/api/v1/auth/verify-email/resend").status_code == 202
    second = sent_token(alice.email, "Confirm")
    assert second and second != first
    assert api.post("/api/v1/auth/verify-email", json={"token": second}).status_code == 200


def test_a_password_reset_verifies_the_address(api, alice):
    api.post("/api/v1/auth/forgot-password", json={"email": alice.email})
    token = sent_token(alice.email, "Reset")
    assert (
        api.post("/api/v1/auth/reset-password", json={"token": token, "new_password": NEW_PASSWORD}).status_code == 200
    )
    fresh = login(api, alice.email, NEW_PASSWORD)
    profile = api.get("/api/v1/auth/profile", headers=bearer(fresh["access_token"])).json()["data"]
    assert profile["email_verified"] is True


def test_grant_admin_works_only_for_a_verified_address(api, alice, capsys):
    assert manage(["grant-admin", alice.email]) == 1
    assert "not verified" in capsys.readouterr().err
    assert alice.get("/api/v1/admin/stats").status_code == 403
    assert manage(["grant-admin", "nobody@example.com"]) == 1

    verify_email(api, alice.email)
    assert manage(["grant-admin", alice.email.upper()]) == 0
    assert "admin" in capsys.readouterr().out
    assert alice.get("/api/v1/auth/profile").json()["data"]["role"] == "admin"
    assert alice.get("/api/v1/admin/stats").status_code == 200  # the role applies to current tokens

    assert manage(["revoke-admin", alice.email]) == 0
    assert alice.get("/api/v1/admin/stats").status_code == 403
    with pytest.raises(SystemExit) as usage:
        manage(["make-god", alice.email])
    assert usage.value.code == 2


# ---- throttles of the unauthenticated routes


@pytest.fixture
def frozen_minute(monkeypatch):
    """Every counter falls in one rate-limit window, so a burst cannot straddle two."""
    import voxify.repositories.usage as usage_repository

    now = int(time.time())
    monkeypatch.setattr(usage_repository, "epoch", lambda: now)


def throttle_limits(monkeypatch, per_ip, per_account):
    monkeypatch.setenv("VOXIFY_AUTH_THROTTLE_PER_IP_PER_MINUTE", str(per_ip))
    monkeypatch.setenv("VOXIFY_AUTH_THROTTLE_PER_ACCOUNT_PER_MINUTE", str(per_account))
    reset_caches()


def assert_throttled(response, per):
    assert response.status_code == 429 and error_code(response) == "RATE_LIMITED", response.text
    assert response.json()["error"]["details"]["per"] == per
    assert 1 <= int(response.headers["Retry-After"]) <= 60


def test_auth_routes_are_throttled_per_ip(api, frozen_minute, monkeypatch):
    throttle_limits(monkeypatch, per_ip=3, per_account=100)
    attempts = [
        api.post("/api/v1/auth/login", json={"email": f"who{i}@example.com", "password": PASSWORD}) for i in range(4)
    ]
    assert [r.status_code for r in attempts[:3]] == [401] * 3
    assert_throttled(attempts[3], "ip")
    # the OAuth2 form shares the login counter
    assert_throttled(api.post("/api/v1/auth/token", data={"username": "x@example.com", "password": "p"}), "ip")
    # X-Forwarded-For is the caller's to write, so it changes nothing
    spoofed = api.post(
        "/api/v1/auth/login",
        json={"email": "who@example.com", "password": PASSWORD},
        headers={"X-Forwarded-For": "198.51.100.1"},
    )
    assert_throttled(spoofed, "ip")
    elsewhere = TestClient(api.app, client=("198.51.100.7", 40000))
    assert (
        elsewhere.post("/api/v1/auth/login", json={"email": "who@example.com", "password": PASSWORD}).status_code == 401
    )
    # each route counts on its own
    for _ in range(3):
        assert api.post("/api/v1/auth/forgot-password", json={"email": "x@example.com"}).status_code == 202
    assert_throttled(api.post("/api/v1/auth/forgot-password", json={"email": "x@example.com"}), "ip")
    for route, body in (
        ("register", {"email": "n@example.com", "password": "short", "first_name": "N", "last_name": "N"}),
        ("refresh", {"refresh_token": "not-a-token"}),
        ("reset-password", {"token": "not-a-token", "new_password": NEW_PASSWORD}),
        ("verify-email", {"token": "not-a-token"}),
    ):
        answers = [api.post(f"/api/v1/auth/{route}", json=body) for _ in range(4)]
        assert all(r.status_code in (400, 401) for r in answers[:3]), route
        assert_throttled(answers[3], "ip")


def test_auth_routes_are_throttled_per_account(frozen_minute, api, alice, bob, monkeypatch):
    throttle_limits(monkeypatch, per_ip=100, per_account=3)  # the fixtures' logins were the first
    wrong = {"email": alice.email, "password": "wrong password 1"}
    assert [api.post("/api/v1/auth/login", json=wrong).status_code for _ in range(2)] == [401, 401]
    elsewhere = TestClient(api.app, client=("198.51.100.8", 40000))
    assert_throttled(elsewhere.post("/api/v1/auth/login", json={**wrong, "email": alice.email.upper()}), "account")
    # right password or not: the account's counter is spent for this minute
    assert_throttled(api.post("/api/v1/auth/login", json={"email": alice.email, "password": PASSWORD}), "account")
    assert api.post("/api/v1/auth/login", json={"email": bob.email, "password": PASSWORD}).status_code == 200
    for _ in range(3):
        assert api.post("/api/v1/auth/forgot-password", json={"email": bob.email}).status_code == 202
    assert_throttled(api.post("/api/v1/auth/forgot-password", json={"email": bob.email}), "account")


def test_login_throttle_counts_the_account_whichever_name_logs_in(frozen_minute, api, monkeypatch):
    """An account with a user name logs in by either name (004's login, 003's /token): both
    spend one counter, or each name would get the account's allowance again."""
    throttle_limits(monkeypatch, per_ip=100, per_account=4)
    account = {"username": "carol", "email": "carol@example.com", "password": PASSWORD, "full_name": "Carol"}
    assert api.post("/api/auth/register", json=account).status_code == 201
    wrong = "wrong password 1"
    attempts = [
        api.post("/api/auth/login", data={"username": "carol", "password": wrong}),
        api.post("/api/auth/login", data={"username": "Carol@Example.com", "password": wrong}),
        api.post("/token", data={"username": "CAROL", "password": wrong}),
        api.post("/token", data={"username": "carol@example.com", "password": wrong}),
    ]
    assert [r.status_code for r in attempts] == [401] * 4
    for name in ("carol", "carol@example.com"):
        refused = api.post("/api/auth/login", data={"username": name, "password": PASSWORD})
        assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60
    # a name no account has is still counted, however it is written
    unknown = [api.post("/token", data={"username": "nobody", "password": wrong}) for _ in range(3)]
    assert [r.status_code for r in unknown] == [401] * 3
    assert api.post("/token", data={"username": " Nobody", "password": wrong}).status_code == 401
    assert api.post("/token", data={"username": "NOBODY ", "password": wrong}).status_code == 429


def test_throttle_counts_api_gateways_source_ip_not_forwarded_for(stack, monkeypatch):
    from functions.api import handler as api_handler

    throttle_limits(monkeypatch, per_ip=1, per_account=100)

    def login_from(source_ip, forwarded_for):
        event = http_api_event(
            "POST",
            "/api/v1/auth/login",
            body=json.dumps({"email": "who@example.com", "password": PASSWORD}),
            headers={"content-type": "application/json", "x-forwarded-for": forwarded_for},
        )
        event["requestContext"]["http"]["sourceIp"] = source_ip
        response = api_handler.handler(event, lambda_context("voxify-local-api"))
        body = base64.b64decode(response["body"]) if response.get("isBase64Encoded") else response["body"]
        return response["statusCode"], json.loads(body)

    import voxify.repositories.usage as usage_repository

    now = int(time.time())
    monkeypatch.setattr(usage_repository, "epoch", lambda: now)
    assert login_from("203.0.113.10", "198.51.100.1")[0] == 401
    status, body = login_from("203.0.113.10", "198.51.100.2")
    assert status == 429 and body["error"]["details"]["per"] == "ip"
    assert login_from("203.0.113.11", "198.51.100.1")[0] == 401


# ---- API keys


def create_key(user, **body):
    response = user.post("/api/v1/api-keys", json={"name": "k", **body})
    assert response.status_code == 201, response.text
    return response.json()["data"]


def test_api_keys_have_scopes(api, alice):
    default = create_key(alice)
    assert default["scopes"] == [scope.value for scope in DEFAULT_SCOPES] and default["expires_at"] is None
    assert api.get("/api/v1/auth/profile", headers=bearer(default["key"])).status_code == 200

    jobs_only = create_key(alice, scopes=["jobs"])
    refused = api.get("/api/v1/auth/profile", headers=bearer(jobs_only["key"]))
    assert refused.status_code == 403 and error_code(refused) == "FORBIDDEN"
    assert refused.json()["error"]["details"] == {"required_scope": "account"}
    assert api.get("/api/v1/api-keys", headers=bearer(jobs_only["key"])).status_code == 403

    read_only = create_key(alice, scopes=["read", "read"])
    assert read_only["scopes"] == ["read"]
    assert api.get("/api/v1/auth/profile", headers=bearer(read_only["key"])).status_code == 200
    changed = api.patch("/api/v1/auth/profile", headers=bearer(read_only["key"]), json={"first_name": "Eve"})
    assert changed.status_code == 403
    assert api.post("/api/v1/auth/logout-all", headers=bearer(read_only["key"])).status_code == 403
    assert alice.get("/api/v1/auth/profile").json()["data"]["first_name"] == "Test"

    listed = {k["key_id"]: k["scopes"] for k in alice.get("/api/v1/api-keys").json()["data"]}
    assert listed[jobs_only["key_id"]] == ["jobs"]
    for bad in ({"scopes": ["keys"]}, {"scopes": []}):
        response = alice.post("/api/v1/api-keys", json={"name": "k", **bad})
        assert response.status_code == 400 and error_code(response) == "VALIDATION_ERROR"


def test_only_an_administrators_key_may_have_the_admin_scope(api, alice):
    refused = alice.post("/api/v1/api-keys", json={"name": "k", "scopes": ["admin"]})
    assert refused.status_code == 403 and error_code(refused) == "FORBIDDEN"
    verify_email(api, alice.email)
    assert manage(["grant-admin", alice.email]) == 0
    plain = create_key(alice)
    assert api.get("/api/v1/admin/stats", headers=bearer(plain["key"])).status_code == 403
    admin = create_key(alice, scopes=["admin"])
    assert api.get("/api/v1/admin/stats", headers=bearer(admin["key"])).status_code == 200
    assert alice.get("/api/v1/admin/stats").status_code == 200  # a session needs no scope
    assert manage(["revoke-admin", alice.email]) == 0
    assert api.get("/api/v1/admin/stats", headers=bearer(admin["key"])).status_code == 403


def test_api_keys_expire(api, alice, stack):
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    refused = alice.post("/api/v1/api-keys", json={"name": "k", "expires_at": past})
    assert refused.status_code == 400 and error_code(refused) == "VALIDATION_ERROR"
    naive = alice.post("/api/v1/api-keys", json={"name": "k", "expires_at": "2999-01-01T00:00:00"})
    assert naive.status_code == 400 and error_code(naive) == "VALIDATION_ERROR"

    soon = create_key(alice, expires_at=(datetime.now(UTC) + timedelta(hours=1)).isoformat())
    assert soon["expires_at"].endswith("Z")
    assert api.get("/api/v1/auth/profile", headers=bearer(soon["key"])).status_code == 200
    # an hour later (the stored expiry moved into the past)
    table = resource("dynamodb").Table("voxify-local-data")
    item = next(
        i for i in table.scan()["Items"] if i.get("key_id") == soon["key_id"] and str(i["pk"]).startswith("APIKEY#")
    )
    expired_at = (datetime.now(UTC) - timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
    table.update_item(
        Key={"pk": item["pk"], "sk": item["sk"]},
        UpdateExpression="SET expires_at = :t",
        ExpressionAttributeValues={":t": expired_at},
    )
    reset_caches()  # an hour on, the API no longer holds the key as it last read it
    expired = api.get("/api/v1/auth/profile", headers=bearer(soon["key"]))
    assert expired.status_code == 401 and error_code(expired) == "TOKEN_EXPIRED"


def test_an_api_key_cannot_mint_keys(api, alice):
    key = create_key(alice)["key"]
    minted = api.post("/api/v1/api-keys", headers=bearer(key), json={"name": "child"})
    assert minted.status_code == 403 and error_code(minted) == "FORBIDDEN"
    assert [k["name"] for k in alice.get("/api/v1/api-keys").json()["data"]] == ["k"]


def test_an_idempotent_replay_does_not_reveal_the_key(api, alice, stack):
    _, resources = stack
    headers = {"Idempotency-Key": "key-once"}
    first = alice.post("/api/v1/api-keys", headers=headers, json={"name": "ci"})
    assert first.status_code == 201
    created = first.json()["data"]
    assert created["key"].startswith("vx_")
    replay = alice.post("/api/v1/api-keys", headers=headers, json={"name": "ci"})
    assert replay.status_code == 409 and error_code(replay) == "SECRET_ALREADY_SHOWN"
    assert replay.json()["error"]["details"] == {"key_id": created["key_id"], "prefix": created["prefix"]}
    assert created["key"] not in replay.text
    table = resource("dynamodb").Table(resources.environment["VOXIFY_IDEMPOTENCY_TABLE_NAME"])
    items = table.scan()["Items"]
    assert items and created["key_id"] in str(items)
    assert created["key"] not in str(items) and "vx_" not in str(items).replace(created["prefix"], "")
    assert len(alice.get("/api/v1/api-keys").json()["data"]) == 1


def test_scopes_allow_their_groups_and_read_allows_gets():
    key = Principal("usr_1", Role.USER, "api_key", frozenset({Scope.JOBS, Scope.READ}))
    assert key.allows(Scope.JOBS, "POST") and key.allows(Scope.VOICES, "GET") and key.allows(Scope.WEBHOOKS, "HEAD")
    assert not key.allows(Scope.VOICES, "POST") and not key.allows(Scope.ADMIN, "GET")
    session = Principal("usr_1", Role.USER, "token")
    assert all(session.allows(scope, "DELETE") for scope in Scope)
