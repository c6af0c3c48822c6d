"""The one exception the audio pipeline raises for bad input or impossible requests."""

from __future__ import annotations

from voxify.errors import CodedError


class AudioError(CodedError):
    """Audio we cannot use or produce; `code` (an ErrorCode) is stable for clients to match on.

    Codes: UNSUPPORTED_AUDIO (not an audio container we know), CORRUPT_AUDIO (looks like one
    but does not decode), UNSUPPORTED_FORMAT (no encoder for that output format),
    UNSUPPORTED_SAMPLE_RATE (outside 8000-48000 Hz, or a rate the codec cannot carry).
    """
