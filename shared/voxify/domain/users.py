"""Users, tokens and API keys as the API shows them."""

from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, Field

from voxify.domain.email import EmailAddress
from voxify.domain.records import OwnedRecord, view


class Role(StrEnum):
    USER = "user"
    ADMIN = "admin"


class Scope(StrEnum):
    """What an API key may do; a session (access token) may do everything its role allows.

    Each scope is a group of routes (see voxify.http.deps.require_scope):

    * `account`: /auth/profile, /auth/logout-all, /auth/verify-email/resend, /auth/export,
      /auth/account (deleting it), listing and deleting API keys;
    * `jobs`: synthesis: /job, /tts/*, /v1/audio/speech, /file/synthesis, /batches;
    * `voices`: /voice/* (samples, clones, searches, models, info) and /watermark/*;
    * `library`: /library;
    * `webhooks`: /webhooks;
    * `read`: GET (and HEAD) on every group above, whatever the key's other scopes;
    * `admin`: /admin/*; only an administrator's key may carry it, and never by default.

    No scope lets a key create API keys: that takes a session.
    """

    ACCOUNT = "account"
    JOBS = "jobs"
    VOICES = "voices"
    LIBRARY = "library"
    WEBHOOKS = "webhooks"
    READ = "read"
    ADMIN = "admin"


# a key created without `scopes` gets every scope but `admin`
DEFAULT_SCOPES = [Scope.ACCOUNT, Scope.JOBS, Scope.VOICES, Scope.LIBRARY, Scope.WEBHOOKS]


class User(BaseModel):
    user_id: str
    email: str
    username: str | None = Field(default=None, description="a second login name, where one was chosen")
    first_name: str
    last_name: str
    role: Role = Role.USER
    email_verified: bool = Field(
        default=False, description="the address was confirmed with a mailed token; roles beyond user need it"
    )
    disabled: bool = False
    active_voice_id: str | None = None
    created_at: str
    updated_at: str


class UserRecord(User):
    """A user as stored: the profile plus what never leaves the service: the password hash,
    and the token version every access and refresh token carries (`ver`); bumping it (a
    password reset, signing out everywhere) ends every session at once."""

    password_hash: str | None = None
    token_version: int = 0

    def public(self) -> User:
        return view(User, self)


class RegisterRequest(BaseModel):
    email: EmailAddress = Field(examples=["ada@example.com"])
    password: str = Field(min_length=1, max_length=256, examples=["correct horse battery 9"])
    first_name: str = Field(min_length=1, max_length=100, examples=["Ada"])
    last_name: str = Field(min_length=1, max_length=100, examples=["Lovelace"])


class LoginRequest(BaseModel):
    email: EmailAddress
    password: str = Field(min_length=1, max_length=256)


class RefreshRequest(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=4096)


class ProfileUpdate(BaseModel):
    first_name: str | None = Field(default=None, min_length=1, max_length=100)
    last_name: str | None = Field(default=None, min_length=1, max_length=100)


class ForgotPasswordRequest(BaseModel):
    email: EmailAddress


class ResetPasswordRequest(BaseModel):
    token: str = Field(min_length=1, max_length=512)
    new_password: str = Field(min_length=1, max_length=256)


class VerifyEmailRequest(BaseModel):
    token: str = Field(min_length=1, max_length=512)


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="seconds until the access token expires")


class ApiKeyCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100, examples=["render farm"])
    scopes: list[Scope] | None = Field(
        default=None,
        min_length=1,
        description="what the key may do (see Scope); unset: every scope but admin",
        examples=[["jobs", "read"]],
    )
    expires_at: AwareDatetime | None = Field(
        default=None, description="when the key stops working (with a time zone); unset: never"
    )


class ApiKey(BaseModel):
    key_id: str
    name: str
    prefix: str = Field(description="the first characters of the key, to recognise it")
    # keys made before scopes existed have the defaults
    scopes: list[Scope] = Field(default_factory=lambda: list(DEFAULT_SCOPES))
    # ISO 8601 (a string, so the table's TTL, which reads numbers only, never deletes the key)
    expires_at: str | None = None
    created_at: str
    last_used_at: str | None = None


class ApiKeyCreated(ApiKey):
    key: str = Field(description="shown once; store it now")


class ApiKeyRecord(ApiKey, OwnedRecord):
    """An API key as stored (under the hash of the key, which is never kept)."""

    def public(self) -> ApiKey:
        return view(ApiKey, self)
