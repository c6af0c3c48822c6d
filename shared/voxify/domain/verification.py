"""Voice verification: the owner of a clone reads a challenge phrase aloud to prove the voice
is theirs. One verification per clone at a time, keyed by the clone's id."""

from enum import StrEnum

from pydantic import BaseModel, Field

from voxify.domain.records import OwnedRecord, view


class VerificationStatus(StrEnum):
    CHALLENGED = "challenged"  # a phrase issued, no recording yet
    PENDING = "pending"  # the recording is stored and queued for the worker's check
    VERIFIED = "verified"
    FAILED = "failed"


class Verification(BaseModel):
    clone_id: str
    status: VerificationStatus
    phrase: str = Field(description="what to read aloud, as written")
    challenge_expires_at: str = Field(description="the recording must arrive before this")
    transcript: str | None = Field(default=None, description="what the recogniser heard")
    word_error_rate: float | None = Field(default=None, description="of the transcript against the phrase, 0..1+")
    speaker_similarity: float | None = Field(default=None, description="of the recording to the voice, -1..1")
    error_code: str | None = Field(
        default=None, description="why it failed: PHRASE_MISMATCH, SPEAKER_MISMATCH, SYNTHETIC_RECORDING, ..."
    )
    error: str | None = None
    checked_at: str | None = None
    created_at: str


class VerificationRecord(Verification, OwnedRecord):
    """A verification as stored: the recording the worker checks (deleted after)."""

    recording_key: str | None = None

    def public(self) -> Verification:
        return view(Verification, self)
