"""/api/v1/auth and /api/v1/api-keys: accounts, tokens, profile, API keys."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
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
)
from voxify.http.deps import CurrentUser
from voxify.http.envelope import Answer, Envelope, ok
from voxify.http.idempotency import run_idempotent
from voxify.logic import auth

router = APIRouter(prefix="/api/v1", tags=["auth"])


@router.post("/auth/register", status_code=201, response_model=Envelope[User])
def register(body: RegisterRequest) -> Answer:
    """Create an account. 409 EMAIL_TAKEN when the address is in use; 400 WEAK_PASSWORD."""
    user = auth.register(body.email, body.password, body.first_name, body.last_name)
    return ok(user.public(), "account created")


@router.post("/auth/login", response_model=Envelope[TokenPair])
def login(body: LoginRequest) -> Answer:
    return ok(auth.login(body.email, body.password))


@router.post("/auth/token", response_model=TokenPair, include_in_schema=True)
def token(form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> TokenPair:
    """OAuth2 password flow (form fields `username` = e-mail, `password`), for /docs' Authorize.

    Answers the bare OAuth2 token response, as OAuth2 clients expect, not the envelope.
    """
    return auth.login(form.username, form.password)


@router.post("/auth/refresh", response_model=Envelope[TokenPair])
def refresh(body: RefreshRequest) -> Answer:
    """Rotate: the old refresh token is spent. Presenting a spent one revokes the whole login."""
    return ok(auth.refresh(body.refresh_token))


@router.post("/auth/logout", response_model=Envelope[None])
def logout(body: RefreshRequest) -> Answer:
    auth.logout(body.refresh_token)
    return ok(None, "logged out")


@router.get("/auth/profile", response_model=Envelope[User])
def get_profile(principal: CurrentUser) -> Answer:
    return ok(auth.profile(principal.user_id).public())


@router.put("/auth/profile", response_model=Envelope[User])
@router.patch("/auth/profile", response_model=Envelope[User])
def update_profile(body: ProfileUpdate, principal: CurrentUser) -> Answer:
    return ok(auth.update_profile(principal.user_id, body).public())


@router.post("/auth/forgot-password", status_code=202, response_model=Envelope[None])
def forgot_password(body: ForgotPasswordRequest) -> Answer:
    """Mails a single-use token valid for one hour. Same answer whether or not the account exists."""
    auth.forgot_password(body.email)
    return ok(None, "if the account exists, a reset token is on its way")


@router.post("/auth/reset-password", response_model=Envelope[None])
def reset_password(body: ResetPasswordRequest) -> Answer:
    auth.reset_password(body.token, body.new_password)
    return ok(None, "password changed")


@router.post("/api-keys", status_code=201, response_model=Envelope[ApiKeyCreated], tags=["api keys"])
def create_api_key(body: ApiKeyCreate, request: Request, principal: CurrentUser) -> Any:
    """The key is shown once; use it as `Authorization: Bearer vx_...`."""
    return run_idempotent(
        request,
        principal.user_id,
        body.model_dump(),
        lambda: (201, ok(auth.create_api_key(principal.user_id, body.name), "store this key now")),
    )


@router.get("/api-keys", response_model=Envelope[list[ApiKey]], tags=["api keys"])
def list_api_keys(principal: CurrentUser) -> Answer:
    return ok([key.public() for key in auth.list_api_keys(principal.user_id)])


@router.delete("/api-keys/{key_id}", response_model=Envelope[None], tags=["api keys"])
def delete_api_key(key_id: str, principal: CurrentUser) -> Answer:
    auth.delete_api_key(principal.user_id, key_id)
    return ok(None, "API key deleted")
