"""Voice samples (uploaded audio) and voice clones (a consented voice built from samples)."""

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field


class SampleStatus(StrEnum):
    UPLOADING = "uploading"  # presigned upload issued, bytes not arrived yet
    UPLOADED = "uploaded"  # bytes stored, processing queued
    PROCESSING = "processing"
    READY = "ready"
    REJECTED = "rejected"


class Sample(BaseModel):
    sample_id: str
    user_id: str
    name: str
    description: str | None = None
    language: str = "en"
    status: SampleStatus
    format: str | None = None
    size_bytes: int | None = None
    duration_seconds: float | None = None
    quality: dict[str, Any] | None = None
    rejection_reasons: list[str] = []
    original_key: str
    normalized_key: str | None = None
    reference_key: str | None = None
    created_at: str
    updated_at: str


class UploadRequest(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    language: str = Field(default="en", min_length=2, max_length=16)
    size_bytes: int = Field(gt=0, description="exact size of the file you will upload")
    content_type: str = Field(default="application/octet-stream", max_length=100)


class CloneStatus(StrEnum):
    READY = "ready"
    NEEDS_REVIEW = "needs_review"
    REJECTED = "rejected"


class CloneCreate(BaseModel):
    sample_ids: list[str] = Field(min_length=1, max_length=10)
    name: str = Field(min_length=1, max_length=100, examples=["Narrator"])
    description: str | None = Field(default=None, max_length=2000)
    ref_text: str = Field(min_length=1, max_length=1000,
                          description="exactly what is said in the first sample",
                          examples=["Some call me nature, others call me mother nature."])
    language: str = Field(default="en", min_length=2, max_length=16)
    consent: bool = Field(description="the speaker consented to being cloned; must be true")


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
    created_at: str
    updated_at: str
