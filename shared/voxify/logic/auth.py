"""Accounts and credentials: registration, login, token rotation, password reset, API keys.

Passwords are hashed with Argon2id (memory-hard). Access tokens live 1 h, refresh tokens
30 d; every refresh rotates the token, and presenting a spent refresh token revokes its
whole family (the signature of a stolen token being replayed).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError

from voxify.adapters.mail import send_email
from voxify.adapters.secrets import signing_key
from voxify.clock import epoch, new_id, now_iso
from voxify.domain.users import ApiKeyCreated, ApiKeyRecord, ProfileUpdate, Role, TokenPair, UserRecord
from voxify.errors import ErrorCode, VoxifyError, found, not_found
from voxify.repositories.users import (
    ApiKeyRepository,
    RefreshTokenRepository,
    ResetTokenRepository,
    UserRepository,
)
from voxify.settings import get_settings

API_KEY_PREFIX = "vx_"
_hasher = PasswordHasher()
# a hash to verify against when the e-mail is unknown, so timing does not reveal accounts
_DUMMY_HASH = _hasher.hash("not-a-real-password")


@dataclass(frozen=True)
class Principal:
    user_id: str
    role: Role
    via: str  # "token" or "api_key"


def check_password_policy(password: str, email: str) -> None:
    problems = []
    if len(password) < 10:
        problems.append("at least 10 characters")
    if not re.search(r"[A-Za-z]", password) or not re.search(r"\d", password):
        problems.append("letters and digits")
    name = email.split("@")[0].lower()
    if name and name in password.lower():
        problems.append("not containing the e-mail's name")
    if problems:
        raise VoxifyError(
            ErrorCode.WEAK_PASSWORD, "password must have " + ", ".join(problems), {"requirements": problems}
        )


def register(email: str, password: str, first_name: str, last_name: str) -> UserRecord:
    email = email.lower()
    check_password_policy(password, email)
    now = now_iso()
    user = UserRecord(
        user_id=new_id("usr"),
        email=email,
        first_name=first_name,
        last_name=last_name,
        role=Role.ADMIN if email in get_settings().admin_emails else Role.USER,
        password_hash=_hasher.hash(password),
        created_at=now,
        updated_at=now,
    )
    if not UserRepository().create(user):
        raise VoxifyError(ErrorCode.EMAIL_TAKEN, "an account with this e-mail already exists")
    return user


def login(email: str, password: str) -> TokenPair:
    """A token pair for valid credentials; the same error for every kind of mismatch."""
    user = UserRepository().get_by_email(email.lower())
    try:
        _hasher.verify((user.password_hash if user else None) or _DUMMY_HASH, password)
    except (VerifyMismatchError, InvalidHashError):
        user = None
    if user is None:
        raise VoxifyError(ErrorCode.INVALID_CREDENTIALS, "e-mail or password is wrong")
    if user.disabled:
        raise VoxifyError(ErrorCode.ACCOUNT_DISABLED, "this account is disabled")
    return issue_tokens(user.user_id, user.role, family=new_id("fam"))


def issue_tokens(user_id: str, role: Role, family: str) -> TokenPair:
    settings = get_settings()
    now = epoch()
    access = jwt.encode(
        {
            "sub": user_id,
            "role": role.value,
            "type": "access",
            "iat": now,
            "exp": now + settings.access_token_ttl_seconds,
            "jti": new_id("at"),
        },
        signing_key(),
        algorithm="HS256",
    )
    jti = new_id("rt")
    refresh_expiry = now + settings.refresh_token_ttl_seconds
    refresh = jwt.encode(
        {"sub": user_id, "type": "refresh", "iat": now, "exp": refresh_expiry, "jti": jti, "fam": family},
        signing_key(),
        algorithm="HS256",
    )
    RefreshTokenRepository().issue(jti, family, user_id, refresh_expiry)
    return TokenPair(access_token=access, refresh_token=refresh, expires_in=settings.access_token_ttl_seconds)


def _decode(token: str, expected_type: str) -> dict[str, Any]:
    try:
        claims = jwt.decode(token, signing_key(), algorithms=["HS256"], options={"require": ["exp", "sub", "type"]})
    except jwt.ExpiredSignatureError:
        raise VoxifyError(ErrorCode.TOKEN_EXPIRED, "token expired") from None
    except jwt.InvalidTokenError:
        raise VoxifyError(ErrorCode.TOKEN_INVALID, "token is not valid") from None
    if claims.get("type") != expected_type:
        raise VoxifyError(ErrorCode.TOKEN_INVALID, f"an {expected_type} token is required")
    return claims


def refresh(refresh_token: str) -> TokenPair:
    claims = _decode(refresh_token, "refresh")
    tokens = RefreshTokenRepository()
    family = claims.get("fam", "")
    if tokens.family_revoked(family):
        raise VoxifyError(ErrorCode.TOKEN_INVALID, "this session has ended; log in again")
    if not tokens.spend(claims["jti"]):
        tokens.revoke_family(family, claims["exp"])
        raise VoxifyError(
            ErrorCode.TOKEN_REUSED, "refresh token was already used; every session of this login is revoked"
        )
    user = UserRepository().get(claims["sub"])
    if not user or user.disabled:
        raise VoxifyError(ErrorCode.ACCOUNT_DISABLED, "this account is disabled")
    return issue_tokens(user.user_id, user.role, family)


def logout(refresh_token: str) -> None:
    claims = _decode(refresh_token, "refresh")
    RefreshTokenRepository().revoke_family(claims.get("fam", ""), claims["exp"])


def authenticate(credential: str) -> Principal:
    """A principal for a bearer access token or an API key."""
    if credential.startswith(API_KEY_PREFIX):
        record = ApiKeyRepository().get_by_hash(_sha256(credential))
        if record is None:
            raise VoxifyError(ErrorCode.TOKEN_INVALID, "API key is not valid")
        user_id, via = record.user_id, "api_key"
    else:
        user_id, via = _decode(credential, "access")["sub"], "token"
    user = UserRepository().get(user_id)
    if user is None:
        raise VoxifyError(ErrorCode.TOKEN_INVALID, "the account behind this credential is gone")
    if user.disabled:
        raise VoxifyError(ErrorCode.ACCOUNT_DISABLED, "this account is disabled")
    return Principal(user_id=user_id, role=user.role, via=via)


def profile(user_id: str) -> UserRecord:
    return found(UserRepository().get(user_id), "user")


def update_profile(user_id: str, update: ProfileUpdate) -> UserRecord:
    changes = update.model_dump(exclude_none=True)
    return found(UserRepository().update(user_id, changes) if changes else UserRepository().get(user_id), "user")


def list_users() -> list[UserRecord]:
    return UserRepository().list_all()


def set_user_disabled(user_id: str, disabled: bool) -> UserRecord:
    """Disable (or re-enable) an account; a disabled account's tokens and keys stop working."""
    return found(UserRepository().update(user_id, {"disabled": disabled}), "user")


def forgot_password(email: str) -> None:
    """Mail a single-use reset token; answers the same whether or not the account exists."""
    user = UserRepository().get_by_email(email.lower())
    if user is None:
        return
    settings = get_settings()
    token = secrets.token_urlsafe(32)
    ResetTokenRepository().save(_sha256(token), user.user_id, epoch() + settings.reset_token_ttl_seconds)
    send_email(
        user.email,
        "Reset your Voxify password",
        f"Use this token within the hour to choose a new password:\n\n{token}\n\n"
        f"POST {settings.public_url}/api/v1/auth/reset-password",
    )


def reset_password(token: str, new_password: str) -> None:
    check_password_policy(new_password, "")  # before the single-use token is spent
    user_id = ResetTokenRepository().consume(_sha256(token))
    if user_id is None:
        raise VoxifyError(ErrorCode.INVALID_RESET_TOKEN, "reset token is unknown, used or expired")
    users = UserRepository()
    user = users.get(user_id)
    if user is None:
        raise VoxifyError(ErrorCode.INVALID_RESET_TOKEN, "reset token is unknown, used or expired")
    check_password_policy(new_password, user.email)
    users.update(user_id, {"password_hash": _hasher.hash(new_password)})


def create_api_key(user_id: str, name: str) -> ApiKeyCreated:
    key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    record = ApiKeyRecord(key_id=new_id("key"), user_id=user_id, name=name, prefix=key[:10], created_at=now_iso())
    ApiKeyRepository().create(_sha256(key), record)
    return ApiKeyCreated(**record.public().model_dump(), key=key)


def list_api_keys(user_id: str) -> list[ApiKeyRecord]:
    return ApiKeyRepository().list_for(user_id)


def delete_api_key(user_id: str, key_id: str) -> None:
    if not ApiKeyRepository().delete_owned(user_id, key_id):
        raise not_found("API key")


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()
