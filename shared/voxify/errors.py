"""Stable error codes, in one place. Clients match on `code`, never on message text."""

from enum import StrEnum
from typing import Any, TypeVar

RecordT = TypeVar("RecordT")


class ErrorCode(StrEnum):
    # 400
    VALIDATION_ERROR = "VALIDATION_ERROR"
    INVALID_STATE = "INVALID_STATE"
    UNSUPPORTED_AUDIO = "UNSUPPORTED_AUDIO"
    CORRUPT_AUDIO = "CORRUPT_AUDIO"
    CONSENT_REQUIRED = "CONSENT_REQUIRED"
    SAMPLE_NOT_READY = "SAMPLE_NOT_READY"
    VOICE_NOT_READY = "VOICE_NOT_READY"
    VOICE_UNDER_REVIEW = "VOICE_UNDER_REVIEW"
    NO_ACTIVE_VOICE = "NO_ACTIVE_VOICE"
    UNSUPPORTED_LANGUAGE = "UNSUPPORTED_LANGUAGE"
    WEAK_PASSWORD = "WEAK_PASSWORD"
    INVALID_RESET_TOKEN = "INVALID_RESET_TOKEN"
    INVALID_VERIFICATION_TOKEN = "INVALID_VERIFICATION_TOKEN"
    # 401 / 403
    UNAUTHORIZED = "UNAUTHORIZED"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    TOKEN_EXPIRED = "TOKEN_EXPIRED"
    TOKEN_INVALID = "TOKEN_INVALID"
    TOKEN_REUSED = "TOKEN_REUSED"
    # the session (a login and its refreshes) ended: logout, sign-out everywhere, password reset
    SESSION_REVOKED = "SESSION_REVOKED"
    ACCOUNT_DISABLED = "ACCOUNT_DISABLED"
    FORBIDDEN = "FORBIDDEN"
    # 404 / 405 / 409 / 413 / 415 / 429
    NOT_FOUND = "NOT_FOUND"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    EMAIL_TAKEN = "EMAIL_TAKEN"
    USERNAME_TAKEN = "USERNAME_TAKEN"
    CONFLICT = "CONFLICT"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    IDEMPOTENCY_IN_PROGRESS = "IDEMPOTENCY_IN_PROGRESS"
    # a replayed create whose answer held a secret (an API key) shown only once
    SECRET_ALREADY_SHOWN = "SECRET_ALREADY_SHOWN"
    JOB_NOT_EDITABLE = "JOB_NOT_EDITABLE"
    JOB_PROCESSING = "JOB_PROCESSING"
    OUTPUT_NOT_READY = "OUTPUT_NOT_READY"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    RATE_LIMITED = "RATE_LIMITED"
    QUOTA_EXCEEDED = "QUOTA_EXCEEDED"
    # 5xx
    INTERNAL_ERROR = "INTERNAL_ERROR"
    QUEUE_UNAVAILABLE = "QUEUE_UNAVAILABLE"
    SYNTHESIS_TIMEOUT = "SYNTHESIS_TIMEOUT"
    SYNTHESIS_FAILED = "SYNTHESIS_FAILED"
    # job, sample and batch-line failures (worker, DLQ, drop folder); carried in records and events
    RETRIES_EXHAUSTED = "RETRIES_EXHAUSTED"
    EMPTY_TEXT = "EMPTY_TEXT"
    INVALID_SPEED = "INVALID_SPEED"
    INVALID_REFERENCE = "INVALID_REFERENCE"
    MODEL_UNAVAILABLE = "MODEL_UNAVAILABLE"
    UNSUPPORTED_FORMAT = "UNSUPPORTED_FORMAT"
    UNSUPPORTED_SAMPLE_RATE = "UNSUPPORTED_SAMPLE_RATE"
    VOICE_NOT_FOUND = "VOICE_NOT_FOUND"
    POSSIBLE_IMPERSONATION = "POSSIBLE_IMPERSONATION"
    # drop-folder manifests (written to `<key>.error.json` and per line in reports)
    MANIFEST_UNREADABLE = "MANIFEST_UNREADABLE"
    MANIFEST_TOO_LARGE = "MANIFEST_TOO_LARGE"
    MANIFEST_EMPTY = "MANIFEST_EMPTY"
    DUPLICATE_OUTPUT_NAME = "DUPLICATE_OUTPUT_NAME"
    UNKNOWN_USER = "UNKNOWN_USER"
    # voice verification: asking and answering a challenge (HTTP), and why a check failed (records)
    NO_CHALLENGE = "NO_CHALLENGE"
    CHALLENGE_EXPIRED = "CHALLENGE_EXPIRED"
    VERIFICATION_IN_PROGRESS = "VERIFICATION_IN_PROGRESS"
    PHRASE_MISMATCH = "PHRASE_MISMATCH"
    SPEAKER_MISMATCH = "SPEAKER_MISMATCH"
    SYNTHETIC_RECORDING = "SYNTHETIC_RECORDING"


STATUS_BY_CODE: dict[ErrorCode, int] = {
    ErrorCode.UNAUTHORIZED: 401,
    ErrorCode.INVALID_CREDENTIALS: 401,
    ErrorCode.TOKEN_EXPIRED: 401,
    ErrorCode.TOKEN_INVALID: 401,
    ErrorCode.TOKEN_REUSED: 401,
    ErrorCode.SESSION_REVOKED: 401,
    ErrorCode.ACCOUNT_DISABLED: 403,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.EMAIL_TAKEN: 409,
    ErrorCode.USERNAME_TAKEN: 409,
    ErrorCode.CONFLICT: 409,
    ErrorCode.IDEMPOTENCY_KEY_REUSED: 422,
    ErrorCode.IDEMPOTENCY_IN_PROGRESS: 409,
    ErrorCode.SECRET_ALREADY_SHOWN: 409,
    ErrorCode.JOB_NOT_EDITABLE: 409,
    ErrorCode.JOB_PROCESSING: 409,
    ErrorCode.VOICE_UNDER_REVIEW: 409,
    ErrorCode.OUTPUT_NOT_READY: 409,
    ErrorCode.NO_CHALLENGE: 409,
    ErrorCode.VERIFICATION_IN_PROGRESS: 409,
    ErrorCode.CHALLENGE_EXPIRED: 410,
    ErrorCode.PAYLOAD_TOO_LARGE: 413,
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: 415,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.QUOTA_EXCEEDED: 429,
    ErrorCode.INTERNAL_ERROR: 500,
    ErrorCode.QUEUE_UNAVAILABLE: 503,
    ErrorCode.SYNTHESIS_TIMEOUT: 504,
    ErrorCode.SYNTHESIS_FAILED: 422,
}


class CodedError(Exception):
    """Any failure a client or an event can see: a stable `code` and a plain message.

    Engine, audio, manifest and voice errors derive from it, so whatever reaches a job
    record, a batch report or an HTTP answer carries a member of ErrorCode.
    """

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class VoxifyError(CodedError):
    """An error answered over HTTP; its status follows from the code."""

    def __init__(
        self, code: ErrorCode, message: str, details: Any | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(code, message)
        self.details = details
        self.headers = headers or {}

    @property
    def status_code(self) -> int:
        return STATUS_BY_CODE.get(self.code, 400)


def not_found(what: str) -> VoxifyError:
    """Missing and someone else's look the same, so ids cannot be probed across users."""
    return VoxifyError(ErrorCode.NOT_FOUND, f"{what} not found")


def found(record: RecordT | None, what: str) -> RecordT:
    """The record, or NOT_FOUND when it is absent (or, from get_owned, someone else's)."""
    if record is None:
        raise not_found(what)
    return record
