"""Users, tokens and API keys as the API shows them."""

from enum import StrEnum

from pydantic import BaseModel, EmailStr, Field

from voxify.domain.records import OwnedRecord, view


class Role(StrEnum):
    USER = "user"
    ADMIN = "admin"


class User(BaseModel):
    user_id: str
    email: str
    first_name: str
    last_name: str
    role: Role = Role.USER
    disabled: bool = False
    active_voice_id: str | None = None
    created_at: str
    updated_at: str


class UserRecord(User):
    """A user as stored: the profile plus the password hash, which never leaves the service."""

    password_hash: str | None = None

    def public(self) -> User:
        return view(User, self)


class RegisterRequest(BaseModel):
    email: EmailStr = Field(examples=["ada@example.com"])
    password: str = Field(min_length=1, max_length=256, examples=["correct horse battery 9"])
    first_name: str = Field(min_length=1, max_length=100, examples=["Ada"])
    last_name: str = Field(min_length=1, max_length=100, examples=["Lovelace"])


class LoginRequest(BaseModel):
    email: EmailStr
    password: str = Field(min_length=1, max_length=256)


class RefreshRequest(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=4096)


class ProfileUpdate(BaseModel):
    first_name: str | None = Field(default=None, min_length=1, max_length=100)
    last_name: str | None = Field(default=None, min_length=1, max_length=100)


class ForgotPasswordRequest(BaseModel):
    email: EmailStr


class ResetPasswordRequest(BaseModel):
    token: str = Field(min_length=1, max_length=512)
    new_password: str = Field(min_length=1, max_length=256)


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="seconds until the access token expires")


class ApiKeyCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100, examples=["render farm"])


class ApiKey(BaseModel):
    key_id: str
    name: str
    prefix: str = Field(description="the first characters of the key, to recognise it")
    created_at: str
    last_used_at: str | None = None


class ApiKeyCreated(ApiKey):
    key: str = Field(description="shown once; store it now")


class ApiKeyRecord(ApiKey, OwnedRecord):
    """An API key as stored (under the hash of the key, which is never kept)."""

    def public(self) -> ApiKey:
        return view(ApiKey, self)
