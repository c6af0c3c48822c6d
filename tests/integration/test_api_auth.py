"""Accounts, tokens, password reset and API keys."""

import time

import jwt

from tests.fixtures.api import PASSWORD, make_admin, sent_token


def error_code(response):
    return response.json()["error"]["code"]


def test_register_validates_and_refuses_taken_email(api, alice):
    again = api.post(
        "/api/v1/auth/register",
        json={"email": "ALICE@example.com", "password": PASSWORD, "first_name": "A", "last_name": "B"},
    )
    assert again.status_code == 409 and error_code(again) == "EMAIL_TAKEN"
    weak = api.post(
        "/api/v1/auth/register",
        json={"email": "weak@example.com", "password": "short", "first_name": "A", "last_name": "B"},
    )
    assert weak.status_code == 400 and error_code(weak) == "WEAK_PASSWORD"
    bad = api.post("/api/v1/auth/register", json={"email": "not-an-email", "password": PASSWORD})
    assert bad.status_code == 400 and error_code(bad) == "VALIDATION_ERROR"
    fields = {d["field"] for d in bad.json()["error"]["details"]}
    assert {"email", "first_name", "last_name"} <= fields


def test_login_errors_are_uniform(api, alice):
    wrong = api.post("/api/v1/auth/login", json={"email": alice.email, "password": "nope nope 1234"})
    unknown = api.post("/api/v1/auth/login", json={"email": "who@example.com", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert error_code(wrong) == error_code(unknown) == "INVALID_CREDENTIALS"


def test_oauth2_token_form_works_for_docs_authorize(api, alice):
    response = api.post("/api/v1/auth/token", data={"username": alice.email, "password": PASSWORD})
    assert response.status_code == 200
    assert response.json()["token_type"] == "bearer"
    assert (
        alice.client.get(
            "/api/v1/auth/profile", headers={"Authorization": f"Bearer {response.json()['access_token']}"}
        ).status_code
        == 200
    )


def test_access_token_lasts_an_hour_and_carries_the_role(alice):
    claims = jwt.decode(alice.access_token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["role"] == "user" and claims["type"] == "access"
    refresh_claims = jwt.decode(alice.refresh_token, options={"verify_signature": False})
    assert refresh_claims["exp"] - refresh_claims["iat"] == 30 * 86400


def test_refresh_rotates_and_reuse_revokes_the_family(api, alice):
    first = api.post("/api/v1/auth/refresh", json={"refresh_token": alice.refresh_token})
    assert first.status_code == 200
    rotated = first.json()["data"]["refresh_token"]
    assert rotated != alice.refresh_token
    replay = api.post("/api/v1/auth/refresh", json={"refresh_token": alice.refresh_token})
    assert replay.status_code == 401 and error_code(replay) == "TOKEN_REUSED"
    # the thief's replay ended the legitimate session too
    after = api.post("/api/v1/auth/refresh", json={"refresh_token": rotated})
    assert after.status_code == 401


def test_logout_ends_the_refresh_family(api, alice):
    assert api.post("/api/v1/auth/logout", json={"refresh_token": alice.refresh_token}).status_code == 200
    assert api.post("/api/v1/auth/refresh", json={"refresh_token": alice.refresh_token}).status_code == 401


def test_access_token_cannot_refresh_and_refresh_token_cannot_authenticate(api, alice):
    assert error_code(api.post("/api/v1/auth/refresh", json={"refresh_token": alice.access_token})) == "TOKEN_INVALID"
    response = api.get("/api/v1/auth/profile", headers={"Authorization": f"Bearer {alice.refresh_token}"})
    assert response.status_code == 401


def test_forged_expired_and_alg_none_tokens_are_refused(api, alice):
    claims = jwt.decode(alice.access_token, options={"verify_signature": False})
    forged = jwt.encode({**claims, "role": "admin"}, "guessed-secret", algorithm="HS256")
    expired = jwt.encode({**claims, "exp": int(time.time()) - 10}, "guessed-secret", algorithm="HS256")
    unsigned = jwt.encode({**claims, "role": "admin"}, None, algorithm="none")
    for token, code in ((forged, "TOKEN_INVALID"), (unsigned, "TOKEN_INVALID"), (expired, "TOKEN_INVALID")):
        response = api.get("/api/v1/auth/profile", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401 and error_code(response) == code
    missing = api.get("/api/v1/auth/profile")
    assert missing.status_code == 401 and error_code(missing) == "UNAUTHORIZED"


def test_profile_read_and_update(alice):
    assert alice.get("/api/v1/auth/profile").json()["data"]["email"] == alice.email
    updated = alice.patch("/api/v1/auth/profile", json={"first_name": "Alicia"})
    assert updated.json()["data"]["first_name"] == "Alicia"
    put = alice.put("/api/v1/auth/profile", json={"last_name": "Liddell"})
    assert put.json()["data"]["last_name"] == "Liddell"
    assert "password_hash" not in put.json()["data"]


def sent_reset_token(email):
    return sent_token(email, "Reset")


def test_password_reset_is_single_use(api, alice):
    assert api.post("/api/v1/auth/forgot-password", json={"email": alice.email}).status_code == 202
    assert api.post("/api/v1/auth/forgot-password", json={"email": "nobody@example.com"}).status_code == 202
    token = sent_reset_token(alice.email)
    assert token
    new_password = "a brand new passphrase 7"
    assert (
        api.post("/api/v1/auth/reset-password", json={"token": token, "new_password": new_password}).status_code == 200
    )
    again = api.post("/api/v1/auth/reset-password", json={"token": token, "new_password": new_password})
    assert again.status_code == 400 and error_code(again) == "INVALID_RESET_TOKEN"
    assert api.post("/api/v1/auth/login", json={"email": alice.email, "password": new_password}).status_code == 200
    assert api.post("/api/v1/auth/login", json={"email": alice.email, "password": PASSWORD}).status_code == 401


def test_api_keys_are_shown_once_and_authenticate(api, alice, bob):
    created = alice.post("/api/v1/api-keys", json={"name": "ci"})
    assert created.status_code == 201
    key = created.json()["data"]["key"]
    assert key.startswith("vx_")
    listed = alice.get("/api/v1/api-keys").json()["data"]
    assert [k["name"] for k in listed] == ["ci"] and "key" not in listed[0]
    profile = api.get("/api/v1/auth/profile", headers={"Authorization": f"Bearer {key}"})
    assert profile.json()["data"]["user_id"] == alice.user_id
    key_id = created.json()["data"]["key_id"]
    assert bob.delete(f"/api/v1/api-keys/{key_id}").status_code == 404
    assert alice.delete(f"/api/v1/api-keys/{key_id}").status_code == 200
    assert api.get("/api/v1/auth/profile", headers={"Authorization": f"Bearer {key}"}).status_code == 401


def test_admin_routes_need_the_admin_role(api, alice):
    assert alice.get("/api/v1/admin/stats").status_code == 403
    admin = make_admin(api, "root@example.com")
    stats = admin.get("/api/v1/admin/stats").json()["data"]
    assert stats["users"] == 2
    users = admin.get("/api/v1/admin/users").json()
    assert users["meta"]["pagination"]["total_count"] == 2
    assert admin.patch(f"/api/v1/admin/users/{alice.user_id}", json={"disabled": True}).status_code == 200
    disabled = alice.get("/api/v1/auth/profile")
    assert disabled.status_code == 403 and error_code(disabled) == "ACCOUNT_DISABLED"
    config = admin.put("/api/v1/admin/config", json={"rate_limit_per_minute": 500, "default_engine": "formant"})
    assert config.json()["data"]["rate_limit_per_minute"] == 500
    assert admin.get("/api/v1/admin/config").json()["data"]["default_engine"] == "formant"
    assert admin.patch("/api/v1/admin/users/usr_missing", json={"disabled": True}).status_code == 404


def test_rate_limit_answers_429_with_retry_after(api, alice, monkeypatch):
    monkeypatch.setenv("VOXIFY_RATE_LIMIT_PER_MINUTE", "5")
    from tests.fixtures.api import reset_caches

    reset_caches()
    statuses = [alice.get("/api/v1/auth/profile") for _ in range(7)]
    assert [r.status_code for r in statuses[:5]] == [200] * 5
    limited = statuses[-1]
    if limited.status_code == 200:  # the minute turned over mid-test; one more burst
        limited = [alice.get("/api/v1/auth/profile") for _ in range(7)][-1]
    assert limited.status_code == 429 and error_code(limited) == "RATE_LIMITED"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
