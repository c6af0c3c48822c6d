"""/api/v1/auth and /api/v1/api-keys: accounts, tokens, profile, API keys.

The unauthenticated routes are throttled per client IP and, where the body names an account,
per account (see voxify.logic.auth). Creating an API key honours `Idempotency-Key`, but the
idempotency table keeps the answer without the key itself: a replay answers 409
SECRET_ALREADY_SHOWN with the key's id and prefix (the key was shown once, to the first
request; delete it and create another if that answer was lost).
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.security import OAuth2PasswordRequestForm

from voxify.domain.users import (
    ApiKey,
    ApiKeyCreate,
    ApiKeyCreated,
    ForgotPasswordRequest,
    LoginRequest,
    ProfileUpdate,
    RefreshRequest,
    RegisterRequest,
    ResetPasswordRequest,
    TokenPair,
    User,
    VerifyEmailRequest,
)
from voxify.http.deps import AccountUser, CurrentUser, client_ip
from voxify.http.envelope import Answer, Envelope, ok
from voxify.http.idempotency import SecretCreated, run_idempotent_secret
from voxify.logic import auth, erasure, exports

router = APIRouter(prefix="/api/v1", tags=["auth"])


@router.post("/auth/register", status_code=201, response_model=Envelope[User])
def register(body: RegisterRequest, request: Request) -> Answer:
    """Create an account (role `user`, whatever the address) and mail a verification token.

    409 EMAIL_TAKEN when the address is in use; 400 WEAK_PASSWORD.
    """
    auth.throttle("register", client_ip(request), body.email)
    user = auth.register(body.email, body.password, body.first_name, body.last_name)
    return ok(user.public(), "account created; a verification token is on its way")


@router.post("/auth/verify-email", response_model=Envelope[User])
def verify_email(body: VerifyEmailRequest, request: Request) -> Answer:
    """Confirm the address with the mailed token (single use). 400 INVALID_VERIFICATION_TOKEN."""
    auth.throttle("verify-email", client_ip(request))
    return ok(auth.verify_email(body.token).public(), "e-mail address verified")


@router.post("/auth/verify-email/resend", status_code=202, response_model=Envelope[None])
def resend_verification(request: Request, principal: AccountUser) -> Answer:
    """Mail a fresh verification token to the caller's address, unless it is verified."""
    user = auth.profile(principal.user_id)
    auth.throttle("verify-email-resend", client_ip(request), user.email)
    sent = auth.resend_verification(principal.user_id)
    return ok(None, "a verification token is on its way" if sent else "the address is already verified")


@router.post("/auth/login", response_model=Envelope[TokenPair])
def login(body: LoginRequest, request: Request) -> Answer:
    auth.throttle("login", client_ip(request), body.email)
    return ok(auth.login(body.email, body.password))


@router.post("/auth/token", response_model=TokenPair, include_in_schema=True)
def token(form: Annotated[OAuth2PasswordRequestForm, Depends()], request: Request) -> TokenPair:
    """OAuth2 password flow (form fields `username` = e-mail, `password`), for /docs' Authorize.

    Answers the bare OAuth2 token response, as OAuth2 clients expect, not the envelope.
    Throttled with /auth/login.
    """
    auth.throttle("login", client_ip(request), form.username)
    return auth.login(form.username, form.password)


@router.post("/auth/refresh", response_model=Envelope[TokenPair])
def refresh(body: RefreshRequest, request: Request) -> Answer:
    """Rotate: the old refresh token is spent. Presenting a spent one revokes the whole login.

    A rotated refresh token expires when the login's first one did.
    """
    auth.throttle("refresh", client_ip(request))
    return ok(auth.refresh(body.refresh_token))


@router.post("/auth/logout", response_model=Envelope[None])
def logout(body: RefreshRequest) -> Answer:
    """End this login (the refresh token's family)."""
    auth.logout(body.refresh_token)
    return ok(None, "logged out")


@router.post("/auth/logout-all", response_model=Envelope[None])
def logout_all(principal: AccountUser) -> Answer:
    """Sign out everywhere: every access and refresh token of the account stops working, the
    caller's included (401 SESSION_REVOKED). API keys are not sessions: delete them one by one."""
    auth.logout_everywhere(principal.user_id)
    return ok(None, "every session has ended; log in again")


@router.get("/auth/profile", response_model=Envelope[User])
def get_profile(principal: AccountUser) -> Answer:
    return ok(auth.profile(principal.user_id).public())


@router.put("/auth/profile", response_model=Envelope[User])
@router.patch("/auth/profile", response_model=Envelope[User])
def update_profile(body: ProfileUpdate, principal: AccountUser) -> Answer:
    return ok(auth.update_profile(principal.user_id, body).public())


@router.delete("/auth/account", response_model=Envelope[None])
def delete_account(principal: AccountUser, confirm: str = Query(description="the account's e-mail address")) -> Answer:
    """Delete the account and everything it owns: records, audio (every version), its voices'
    embeddings, API keys, sessions, idempotency records, counters. Refused (409 JOB_PROCESSING)
    while a worker is making one of its jobs. Cannot be undone: export first."""
    erasure.delete_account(principal, confirm)
    return ok(None, "account and all its data deleted")


@router.get(
    "/auth/export",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}, "description": "a zip of JSON files"}},
)
def export_data(principal: AccountUser) -> Response:
    """Everything Voxify keeps about you as one zip: profile, API keys, samples, clones and
    their consent records, jobs, batches, webhooks (secrets left out), and the keys of your
    audio (download each through /api/v1/library or /api/v1/file)."""
    return Response(
        exports.export_archive(principal.user_id),
        media_type="application/zip",
        headers={"Content-Disposition": 'attachment; filename="voxify-export.zip"'},
    )


@router.post("/auth/forgot-password", status_code=202, response_model=Envelope[None])
def forgot_password(body: ForgotPasswordRequest, request: Request) -> Answer:
    """Mails a single-use token valid for one hour. Same answer whether or not the account exists."""
    auth.throttle("forgot-password", client_ip(request), body.email)
    auth.forgot_password(body.email)
    return ok(None, "if the account exists, a reset token is on its way")


@router.post("/auth/reset-password", response_model=Envelope[None])
def reset_password(body: ResetPasswordRequest, request: Request) -> Answer:
    """Set a new password with the mailed token; every session of the account ends."""
    auth.throttle("reset-password", client_ip(request))
    auth.reset_password(body.token, body.new_password)
    return ok(None, "password changed; every session has ended")


@router.post("/api-keys", status_code=201, response_model=Envelope[ApiKeyCreated], tags=["api keys"])
def create_api_key(body: ApiKeyCreate, request: Request, principal: CurrentUser) -> Any:
    """The key is shown once; use it as `Authorization: Bearer vx_...`.

    Needs a session: 403 FORBIDDEN through an API key. A replay with the same Idempotency-Key
    answers 409 SECRET_ALREADY_SHOWN (the key is not kept anywhere to show again).
    """

    def create() -> SecretCreated:
        created = auth.create_api_key(principal, body.name, body.scopes, body.expires_at)
        kept = ApiKey.model_validate(created.model_dump(exclude={"key"}))
        return 201, ok(created, "store this key now"), ok(kept, "store this key now")

    return run_idempotent_secret(
        request, principal.user_id, body.model_dump(mode="json"), create, "API key", ("key_id", "prefix")
    )


@router.get("/api-keys", response_model=Envelope[list[ApiKey]], tags=["api keys"])
def list_api_keys(principal: AccountUser) -> Answer:
    return ok([key.public() for key in auth.list_api_keys(principal.user_id)])


@router.delete("/api-keys/{key_id}", response_model=Envelope[None], tags=["api keys"])
def delete_api_key(key_id: str, principal: AccountUser) -> Answer:
    auth.delete_api_key(principal.user_id, key_id)
    return ok(None, "API key deleted")
