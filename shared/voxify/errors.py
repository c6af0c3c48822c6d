"""Stable error codes. Clients match on `code`, never on message text."""

from enum import StrEnum


class ErrorCode(StrEnum):
    VALIDATION_ERROR = "VALIDATION_ERROR"
    NOT_FOUND = "NOT_FOUND"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    RETRIES_EXHAUSTED = "RETRIES_EXHAUSTED"
    INVALID_WORK_MESSAGE = "INVALID_WORK_MESSAGE"


class VoxifyError(Exception):
    """An error with a stable code and the HTTP status it maps to."""

    status_code = 400

    def __init__(self, code: ErrorCode, message: str, details: object | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details
