"""Watermarks: the mark every output carries, and checks of whether a file carries it."""

from enum import StrEnum

from pydantic import BaseModel, Field

from voxify.domain.records import OwnedRecord, view


class OutputWatermark(BaseModel):
    """Which mark an output carries: the scheme, and the version of the model that made it
    (a detector of another version may not find it)."""

    scheme: str = Field(examples=["perth-implicit"])
    version: str = Field(description="the watermarking package's version and its checkpoint", examples=["1.0.1+250000"])


class DetectionStatus(StrEnum):
    PENDING = "pending"
    COMPLETED = "completed"
    FAILED = "failed"


class WatermarkDetection(BaseModel):
    detection_id: str
    status: DetectionStatus
    marked: bool | None = Field(default=None, description="whether the audio carries Voxify's mark")
    confidence: float | None = Field(
        default=None, description="the detector's score, 0..1; the audio counts as marked at 0.5 or above"
    )
    scheme: str | None = None
    version: str | None = None
    duration_seconds: float | None = None
    error_code: str | None = Field(default=None, description="why the file could not be checked")
    error: str | None = None
    created_at: str


class DetectionRecord(WatermarkDetection, OwnedRecord):
    """A check as stored: whose it is, and the clip the worker examines (deleted after)."""

    clip_key: str

    def public(self) -> WatermarkDetection:
        return view(WatermarkDetection, self)
