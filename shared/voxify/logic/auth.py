"""Accounts and credentials: registration, e-mail verification, login, sessions, password
reset, roles, throttles and API keys.

Passwords are hashed with Argon2id (memory-hard).

Sessions. A login starts a *family*: an access token (1 h) and a refresh token (30 d). Every
refresh rotates the refresh token, and every token of a family expires when the login's
refresh token did: rotation never extends a session past 30 days from its login. Presenting
a spent refresh token revokes the whole family (the signature of a stolen token being
replayed); so does logout. A revoked family is remembered until the family's expiry, after
which none of its tokens could be used anyway. Every token also carries the user's token
version (`ver`); a password reset and `POST /auth/logout-all` bump the version (an atomic
ADD), which ends every session of the account at once (access tokens included): a token whose
`ver` is not the user's current one answers 401 SESSION_REVOKED. Tokens from before the
version existed count as version 0. API keys are not sessions: they outlive both and are
revoked one by one (DELETE /api-keys/{id}).

Roles. Registering never grants a role beyond `user`, whatever the address. On registration a
single-use verification token is mailed (valid VOXIFY_VERIFICATION_TOKEN_TTL_SECONDS, 3 days;
`POST /auth/verify-email/resend` mails another); `POST /auth/verify-email {token}` marks the
address verified. A completed password reset verifies it too (its token went to that
address). Normal use needs no verification; the admin role does, and is granted out of band
by an operator with `python -m voxify.manage grant-admin EMAIL` (see voxify.manage), which
refuses an unverified address.

Throttles. The unauthenticated auth routes (login and /auth/token, register, refresh,
forgot-password, reset-password, verify-email; and the mail-sending verify-email/resend) count
each request per route in fixed one-minute windows, per client IP
(VOXIFY_AUTH_THROTTLE_PER_IP_PER_MINUTE, 30) and, where the request names an account by
e-mail (login, register, forgot-password, resend), per account
(VOXIFY_AUTH_THROTTLE_PER_ACCOUNT_PER_MINUTE, 10); past either, 429 RATE_LIMITED with
Retry-After. Refresh, reset and verification tokens are unguessable, so those routes are
throttled per IP only. The per-account counter is keyed by the account the name resolves to,
so an account that logs in by e-mail or by user name has one allowance, not one per name; a
name no account has is counted under a hash of the name as given (trimmed, in lower case).

API keys (`vx_...`, stored as their SHA-256) carry scopes (voxify.domain.users.Scope; by
default every scope but `admin`, which only an administrator's key may carry) and an optional
expiry, after which they answer 401 TOKEN_EXPIRED. A request authenticated by an API key
cannot create API keys (403 FORBIDDEN): that takes a session.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from botocore.exceptions import BotoCoreError, ClientError

from voxify.adapters.mail import send_email
from voxify.adapters.secrets import signing_key
from voxify.clock import epoch, iso, new_id, now_iso
from voxify.domain.users import (
    DEFAULT_SCOPES,
    ApiKeyCreated,
    ApiKeyRecord,
    ProfileUpdate,
    Role,
    Scope,
    TokenPair,
    UserRecord,
)
from voxify.errors import ErrorCode, VoxifyError, found, not_found
from voxify.observability import logger
from voxify.repositories.usage import UsageRepository
from voxify.repositories.users import (
    ApiKeyRepository,
    RefreshTokenRepository,
    ResetTokenRepository,
    UserRepository,
    VerificationTokenRepository,
)
from voxify.settings import get_settings

API_KEY_PREFIX = "vx_"
_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """A hash to verify against when the name is unknown, so timing does not reveal accounts;
    made on first use, as hashing costs a fifth of a second every cold start would pay."""
    return _hasher.hash("not-a-real-password")


READ_METHODS = frozenset({"GET", "HEAD"})


@dataclass(frozen=True)
class Principal:
    user_id: str
    role: Role
    via: str  # "token" or "api_key"
    scopes: frozenset[Scope] | None = None  # an API key's; None for a session (no limits)

    def allows(self, scope: Scope, method: str) -> bool:
        """Whether this caller may use a route of group `scope` with `method`."""
        if self.scopes is None or scope in self.scopes:
            return True
        return Scope.READ in self.scopes and method.upper() in READ_METHODS and scope != Scope.ADMIN


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


# ---- throttles of the unauthenticated routes


def throttle(action: str, client_ip: str, account_name: str | None = None) -> None:
    """Count one `action` request from `client_ip` (and naming the account `account_name`,
    an e-mail address or a user name); 429 past a limit."""
    settings = get_settings()
    checks = [("ip", f"IP#{client_ip}", settings.auth_throttle_per_ip_per_minute)]
    if account_name:
        checks.append(("account", _account_counter(account_name), settings.auth_throttle_per_account_per_minute))
    counters = UsageRepository()
    for per, key, limit in checks:
        count, reset_in = counters.count_request(f"AUTH#{action}#{key}")
        if count > limit:
            raise VoxifyError(
                ErrorCode.RATE_LIMITED,
                f"too many {action} requests for this {'address' if per == 'ip' else 'account'}; wait a minute",
                {"limit": limit, "per": per, "retry_after_seconds": reset_in},
                headers={"Retry-After": str(max(1, reset_in))},
            )


def _account_counter(name: str) -> str:
    """The per-account counter of a name: the account's own where the name is one of its
    names, else the name's (so guessing at unknown names is throttled too). Hashed: a counter
    lives a minute and need not name whom it counts (erasure leaves nothing that does)."""
    user = _account_named(name)
    return f"ACCOUNT#{_sha256(user.user_id if user else _normalised(name))}"


# ---- accounts and e-mail verification


def register(email: str, password: str, first_name: str, last_name: str, username: str | None = None) -> UserRecord:
    """A new account with the `user` role, whatever the address; mails a verification token.
    A user name, where given, is a second name to log in with (unique, compared in lower case)."""
    email = email.lower()
    username = username.lower() if username else None
    check_password_policy(password, email)
    if username and UserRepository().get_by_username(username):
        raise VoxifyError(ErrorCode.USERNAME_TAKEN, "this user name is taken")
    now = now_iso()
    user = UserRecord(
        user_id=new_id("usr"),
        email=email,
        username=username,
        first_name=first_name,
        last_name=last_name,
        role=Role.USER,
        password_hash=_hasher.hash(password),
        created_at=now,
        updated_at=now,
    )
    if not UserRepository().create(user):
        raise VoxifyError(ErrorCode.EMAIL_TAKEN, "an account with this e-mail already exists")
    try:
        _send_verification(user)
    except (BotoCoreError, ClientError):  # the account stands; verify-email/resend mails another
        logger.exception("verification e-mail not sent", extra={"user_id": user.user_id})
    return user


def _send_verification(user: UserRecord) -> None:
    settings = get_settings()
    token = secrets.token_urlsafe(32)
    expires_at = epoch() + settings.verification_token_ttl_seconds
    VerificationTokenRepository().save(_sha256(token), user.user_id, expires_at, email=user.email)
    send_email(
        user.email,
        "Confirm your Voxify e-mail address",
        f"Use this token to confirm that this address is yours:\n\n{token}\n\n"
        f"POST {settings.public_url}/api/v1/auth/verify-email",
    )


def verify_email(token: str) -> UserRecord:
    """Mark the address the token was mailed to as verified (once per token)."""
    item = VerificationTokenRepository().consume(_sha256(token))
    user = UserRepository().get(item["user_id"]) if item else None
    if item is None or user is None or user.email != item.get("email"):
        raise VoxifyError(ErrorCode.INVALID_VERIFICATION_TOKEN, "verification token is unknown, used or expired")
    return found(UserRepository().update(user.user_id, {"email_verified": True}), "user")


def resend_verification(user_id: str) -> bool:
    """Mail a fresh verification token; False (and no mail) when the address is verified."""
    user = found(UserRepository().get(user_id), "user")
    if user.email_verified:
        return False
    _send_verification(user)
    return True


def set_role(email: str, role: Role) -> UserRecord:
    """Give the account of `email` the role `role` (operators only: voxify.manage).

    Roles beyond `user` need a verified address: INVALID_STATE otherwise.
    """
    users = UserRepository()
    user = users.get_by_email(email.lower())
    if user is None:
        raise not_found("user")
    if role != Role.USER and not user.email_verified:
        raise VoxifyError(
            ErrorCode.INVALID_STATE,
            f"{user.email} is not verified: the user confirms it with the mailed token "
            f"(POST /api/v1/auth/verify-email) before it can get the {role.value} role",
        )
    return found(users.update(user.user_id, {"role": role}), "user")


# ---- sessions


def login(email: str, password: str) -> TokenPair:
    """A token pair for valid credentials (an e-mail address, or a user name where the account
    has one); the same error for every kind of mismatch."""
    user = _account_named(email)
    try:
        _hasher.verify((user.password_hash if user else None) or _dummy_hash(), password)
    except (VerifyMismatchError, InvalidHashError):
        user = None
    if user is None:
        raise VoxifyError(ErrorCode.INVALID_CREDENTIALS, "e-mail or password is wrong")
    if user.disabled:
        raise VoxifyError(ErrorCode.ACCOUNT_DISABLED, "this account is disabled")
    return issue_tokens(user, family=new_id("fam"))


def _normalised(name: str) -> str:
    """Names are stored in lower case, and spaces around a name are a slip, not another name."""
    return name.strip().lower()


def _account_named(name: str) -> UserRecord | None:
    """The account whose e-mail address or user name `name` is (they are stored in lower case;
    a user name cannot contain "@")."""
    users = UserRepository()
    name = _normalised(name)
    return users.get_by_email(name) if "@" in name else users.get_by_username(name)


def issue_tokens(user: UserRecord, family: str, family_expires_at: int | None = None) -> TokenPair:
    """A token pair of `family`; a new family (a login) expires after the refresh TTL, and
    every rotation of it keeps that expiry (`family_expires_at`)."""
    settings = get_settings()
    now = epoch()
    access = jwt.encode(
        {
            "sub": user.user_id,
            "role": user.role.value,
            "type": "access",
            "ver": user.token_version,
            "iat": now,
            "exp": now + settings.access_token_ttl_seconds,
            "jti": new_id("at"),
        },
        signing_key(),
        algorithm="HS256",
    )
    jti = new_id("rt")
    refresh_expiry = family_expires_at or now + settings.refresh_token_ttl_seconds
    refresh = jwt.encode(
        {
            "sub": user.user_id,
            "type": "refresh",
            "ver": user.token_version,
            "iat": now,
            "exp": refresh_expiry,
            "jti": jti,
            "fam": family,
        },
        signing_key(),
        algorithm="HS256",
    )
    RefreshTokenRepository().issue(jti, family, user.user_id, refresh_expiry)
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


def _check_version(claims: dict[str, Any], user: UserRecord) -> None:
    if claims.get("ver", 0) != user.token_version:
        raise VoxifyError(
            ErrorCode.SESSION_REVOKED, "this session was ended (password reset or sign-out everywhere); log in again"
        )


def refresh(refresh_token: str) -> TokenPair:
    """Rotate: a new pair of the same family, expiring with it; the presented token is spent."""
    claims = _decode(refresh_token, "refresh")
    tokens = RefreshTokenRepository()
    family = claims.get("fam", "")
    if tokens.family_revoked(family):
        raise VoxifyError(ErrorCode.SESSION_REVOKED, "this session has ended; log in again")
    user = UserRepository().get(claims["sub"])
    if not user or user.disabled:
        raise VoxifyError(ErrorCode.ACCOUNT_DISABLED, "this account is disabled")
    _check_version(claims, user)
    if not tokens.spend(claims["jti"]):
        tokens.revoke_family(family, claims["exp"])
        raise VoxifyError(
            ErrorCode.TOKEN_REUSED, "refresh token was already used; every session of this login is revoked"
        )
    return issue_tokens(user, family, family_expires_at=claims["exp"])


def logout(refresh_token: str) -> None:
    claims = _decode(refresh_token, "refresh")
    RefreshTokenRepository().revoke_family(claims.get("fam", ""), claims["exp"])


def logout_everywhere(user_id: str) -> None:
    """End every session of the account (this one too): all its tokens stop working."""
    found(UserRepository().end_sessions(user_id), "user")


def authenticate(credential: str) -> Principal:
    """A principal for a bearer access token or an API key. The user and key records are
    those read at most `principal_cache_seconds` ago (voxify.repositories.users), so a
    warm request reads nothing; a disabled account, a bumped token version or a deleted key
    takes effect within that time."""
    scopes: frozenset[Scope] | None = None
    claims: dict[str, Any] | None = None
    if credential.startswith(API_KEY_PREFIX):
        record = ApiKeyRepository().recent_by_hash(_sha256(credential))
        if record is None:
            raise VoxifyError(ErrorCode.TOKEN_INVALID, "API key is not valid")
        if record.expires_at and datetime.fromisoformat(record.expires_at) <= datetime.now(UTC):
            raise VoxifyError(ErrorCode.TOKEN_EXPIRED, "API key expired")
        user_id, via, scopes = record.user_id, "api_key", frozenset(record.scopes)
    else:
        claims = _decode(credential, "access")
        user_id, via = claims["sub"], "token"
    user = UserRepository().recent(user_id)
    if user is None:
        raise VoxifyError(ErrorCode.TOKEN_INVALID, "the account behind this credential is gone")
    if user.disabled:
        raise VoxifyError(ErrorCode.ACCOUNT_DISABLED, "this account is disabled")
    if claims is not None:
        _check_version(claims, user)
    return Principal(user_id=user_id, role=user.role, via=via, scopes=scopes)


def profile(user_id: str) -> UserRecord:
    return found(UserRepository().get(user_id), "user")


def names_user(user_id: str, name: str) -> bool:
    """Whether `name` is the user's e-mail address or user name (as they log in with it)."""
    user = profile(user_id)
    return name.lower() in (user.email, user.username)


def update_profile(user_id: str, update: ProfileUpdate) -> UserRecord:
    changes = update.model_dump(exclude_none=True)
    return found(UserRepository().update(user_id, changes) if changes else UserRepository().get(user_id), "user")


def list_users() -> list[UserRecord]:
    return UserRepository().list_all()


def set_user_disabled(user_id: str, disabled: bool) -> UserRecord:
    """Disable (or re-enable) an account; a disabled account's tokens and keys stop working."""
    return found(UserRepository().update(user_id, {"disabled": disabled}), "user")


# ---- password reset


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
    """Set the new password and end every session of the account, in one write."""
    check_password_policy(new_password, "")  # before the single-use token is spent
    item = ResetTokenRepository().consume(_sha256(token))
    users = UserRepository()
    user = users.get(item["user_id"]) if item else None
    if user is None:
        raise VoxifyError(ErrorCode.INVALID_RESET_TOKEN, "reset token is unknown, used or expired")
    check_password_policy(new_password, user.email)
    # the token reached the address, so the address is verified too
    users.end_sessions(user.user_id, {"password_hash": _hasher.hash(new_password), "email_verified": True})


# ---- API keys


def create_api_key(
    principal: Principal, name: str, scopes: list[Scope] | None = None, expires_at: datetime | None = None
) -> ApiKeyCreated:
    """A new key for the principal's account; only a session (not a key) may create one."""
    if principal.via != "token":
        raise VoxifyError(ErrorCode.FORBIDDEN, "an API key cannot create API keys; use a session (log in)")
    chosen = sorted(set(DEFAULT_SCOPES if scopes is None else scopes), key=list(Scope).index)
    if Scope.ADMIN in chosen and principal.role != Role.ADMIN:
        raise VoxifyError(ErrorCode.FORBIDDEN, "only administrators' keys may have the admin scope")
    if expires_at is not None and expires_at <= datetime.now(UTC):
        raise VoxifyError(
            ErrorCode.VALIDATION_ERROR,
            "the request is not valid",
            [{"field": "expires_at", "message": "must be in the future", "type": "value_error"}],
        )
    key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    record = ApiKeyRecord(
        key_id=new_id("key"),
        user_id=principal.user_id,
        name=name,
        prefix=key[:10],
        scopes=chosen,
        expires_at=iso(expires_at) if expires_at else None,
        created_at=now_iso(),
    )
    ApiKeyRepository().create(_sha256(key), record)
    return ApiKeyCreated(**record.public().model_dump(), key=key)


def list_api_keys(user_id: str) -> list[ApiKeyRecord]:
    return ApiKeyRepository().list_for(user_id)


def delete_api_key(user_id: str, key_id: str) -> None:
    if not ApiKeyRepository().delete_owned(user_id, key_id):
        raise not_found("API key")


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()
