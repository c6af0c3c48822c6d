"""Voice samples (uploaded audio) and voice clones (a consented voice built from samples)."""

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field

from voxify.domain.records import OwnedRecord, view

# Names are shown back in listings, logs and reports: no control characters (NUL included).
NAME_PATTERN = r"^[^\x00-\x1f\x7f]+$"


UploadType = Literal["uploaded", "recorded"]


class SampleStatus(StrEnum):
    UPLOADING = "uploading"  # presigned upload issued, bytes not arrived yet
    UPLOADED = "uploaded"  # bytes stored, processing queued
    PROCESSING = "processing"
    READY = "ready"
    REJECTED = "rejected"


class SampleQuality(BaseModel):
    """What the worker measured; `score` (0-100) summarises how well the sample will clone."""

    duration_seconds: float
    speech_seconds: float
    speech_ratio: float = Field(description="share of 30 ms frames a VAD calls speech")
    loudness_lufs: float | None = Field(description="integrated loudness (ITU-R BS.1770)")
    peak_dbfs: float
    clipping_ratio: float = Field(description="share of samples at or near full scale")
    snr_db: float = Field(description="speech level over the noise floor, estimated from frame energies")
    spectral_flatness: float = Field(description="near 1 for noise, well below for speech")
    sample_rate: int = Field(description="of the uploaded file")
    score: int


class Sample(BaseModel):
    sample_id: str
    user_id: str
    name: str
    description: str | None = None
    language: str = "en"
    status: SampleStatus
    format: str | None = None
    size_bytes: int | None = None
    upload_type: UploadType = Field(default="uploaded", description="a file uploaded, or recorded in the browser")
    duration_seconds: float | None = None
    quality: SampleQuality | None = None
    rejection_reasons: list[str] = []
    embedding_model: str | None = None
    sha256: str | None = Field(default=None, description="of the uploaded file, as the worker read it")
    original_key: str
    normalized_key: str | None = None
    reference_key: str | None = None
    created_at: str
    updated_at: str


class SampleRecord(Sample, OwnedRecord):
    """A sample as stored; every field of it is the owner's to see."""

    def public(self) -> Sample:
        return view(Sample, self)


class UploadRequest(BaseModel):
    name: str = Field(min_length=1, max_length=200, pattern=NAME_PATTERN)
    description: str | None = Field(default=None, max_length=2000)
    language: str = Field(default="en", min_length=2, max_length=16)
    size_bytes: int = Field(gt=0, description="exact size of the file you will upload")
    content_type: str = Field(default="application/octet-stream", max_length=100)


# What a caller attests with `consent: true`, kept with the clone under its version: a later
# wording gets a new version, and a clone keeps the words its owner agreed to.
CONSENT_STATEMENT = (
    "I am the person whose voice is in these recordings, or I have that person's permission to "
    "create a synthetic copy of their voice and to use it as I intend to; I will not use it to "
    "deceive anyone about who is speaking."
)
CONSENT_VERSION = "2026-12-01"


class ConsentStatement(BaseModel):
    statement: str = Field(description="the words `consent: true` attests")
    version: str


class SampleHash(BaseModel):
    sample_id: str
    sha256: str | None = Field(description="of the uploaded file; null for samples processed before hashes were kept")


class ConsentAttestation(BaseModel):
    """Who consented, when, to which words, from where, for which exact audio: what a clone
    keeps as its `consent`, and what the account export carries."""

    attested_by: str
    attested_at: str
    statement: str
    statement_version: str
    source_ip: str | None = None
    user_agent: str | None = None
    samples: list[SampleHash]


class VerificationEvidence(BaseModel):
    """What a passed verification measured (voxify_worker/work/verification.py)."""

    phrase: str
    transcript: str = Field(description="what the recogniser heard")
    word_error_rate: float
    speaker_similarity: float = Field(description="cosine similarity of the recording to the voice, -1..1")
    recording_sha256: str


class CloneStatus(StrEnum):
    PROCESSING = "processing"  # embedding and impersonation check in the worker
    READY = "ready"
    NEEDS_REVIEW = "needs_review"
    REJECTED = "rejected"


class CloneCreate(BaseModel):
    sample_ids: list[str] = Field(min_length=1, max_length=10)
    name: str = Field(min_length=1, max_length=100, pattern=NAME_PATTERN, examples=["Narrator"])
    description: str | None = Field(default=None, max_length=2000)
    ref_text: str = Field(
        min_length=1,
        max_length=1000,
        description="exactly what is said in the first sample",
        examples=["Some call me nature, others call me mother nature."],
    )
    language: str = Field(default="en", min_length=2, max_length=16)
    # Not a required field: a request without it is refused by the consent rule itself
    # (CONSENT_REQUIRED, saying how to give it), not by a generic "field required".
    consent: bool = Field(default=False, description="the speaker consented to being cloned; must be true")


class SampleCloneCreate(CloneCreate):
    """A clone made in one step from one uploaded sample, for APIs whose documents have no
    transcript field: `ref_text` may be empty (engines that need one refuse the job, saying so)."""

    sample_ids: list[str] = Field(default_factory=list, max_length=1, description="the sample; set by the upload")
    ref_text: str = Field(default="", max_length=1000, description="what is said in the sample, if known")


class Clone(BaseModel):
    clone_id: str
    user_id: str
    name: str
    description: str | None = None
    sample_ids: list[str]
    ref_text: str
    language: str
    status: CloneStatus
    reference_key: str
    consent: dict[str, Any]
    embedding_model: str | None = None
    review: dict[str, Any] | None = Field(default=None, description="why the clone is held or was decided, and by whom")
    verified: bool = Field(default=False, description="its owner proved, by reading a challenge, to be its speaker")
    verified_at: str | None = None
    verification: VerificationEvidence | None = None
    created_at: str
    updated_at: str


class AdminClone(Clone):
    review_match: dict[str, Any] | None = Field(
        default=None, description="the other user's clone this one resembles (admins only)"
    )


class CloneRecord(AdminClone, OwnedRecord):
    """A clone as stored; its owner sees it without whose voice it resembles."""

    def public(self) -> Clone:
        return view(Clone, self)

    def admin_view(self) -> AdminClone:
        return view(AdminClone, self)


class ReviewDecision(BaseModel):
    approve: bool
    note: str | None = Field(default=None, max_length=1000)


class SimilarVoice(BaseModel):
    voice_id: str
    kind: str = Field(description="clone or sample")
    name: str
    similarity: float = Field(description="cosine similarity of the speaker embeddings, -1..1")


class SearchStatus(StrEnum):
    PENDING = "pending"
    COMPLETED = "completed"
    FAILED = "failed"


class VoiceSearch(BaseModel):
    search_id: str
    status: SearchStatus
    source: str = Field(description="clone:<id> or clip")
    k: int
    results: list[SimilarVoice] = []
    error: str | None = None
    embedding_model: str | None = None
    created_at: str


class SearchRecord(VoiceSearch, OwnedRecord):
    """A search as stored: whose it is, and the clip the worker embeds (deleted after)."""

    clip_key: str | None = None

    def public(self) -> VoiceSearch:
        return view(VoiceSearch, self)
