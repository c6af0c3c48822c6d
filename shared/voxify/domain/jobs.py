"""Synthesis jobs: what a user asks for, and the record the worker moves through states."""

import hashlib
import math
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from voxify.domain.records import OwnedRecord, view
from voxify.domain.watermarks import OutputWatermark

TERMINAL = frozenset({"completed", "failed", "cancelled"})
OutputFormat = Literal["wav", "mp3", "flac", "ogg"]
MAX_TEXT_CHARS = 20_000
# the only sample rates these codecs carry; other formats take any rate in 8-48 kHz
RATES_BY_FORMAT: dict[str, tuple[int, ...]] = {
    "mp3": (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000),
    "opus": (8000, 12000, 16000, 24000, 48000),
}
MAX_BLOCKS = 100
# formats whose encoded pieces, joined, play as one file (FLAC's header needs the whole audio)
STREAMED_FORMATS: tuple[str, ...] = ("wav", "mp3", "ogg")


def rate_problem(fmt: str, rate: int) -> str | None:
    """Why `fmt` cannot carry `rate`, or None when it can."""
    allowed = RATES_BY_FORMAT.get(fmt)
    if allowed and rate not in allowed:
        return f"{fmt} carries only {', '.join(map(str, allowed))} Hz"
    return None


class JobStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self.value in TERMINAL


class Block(BaseModel):
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    voice_model_id: str | None = Field(default=None, description="defaults to the job's voice")
    wait_after_ms: int = Field(default=0, ge=0, le=60_000)


class JobConfig(BaseModel):
    include_timestamps: bool = False
    timestamp_granularity: Literal["word", "syllable", "both"] = "word"
    stream: bool = Field(
        default=False,
        description="also write the audio sentence by sentence as it is made, for the streaming routes "
        f"(formats {', '.join(STREAMED_FORMATS)})",
    )


class JobOptions(BaseModel):
    """The synthesis options a job can change while it is still pending."""

    voice_model_id: str | None = Field(default=None, description="a clone id; defaults to the active voice")
    text_language: str | None = Field(
        default=None, min_length=2, max_length=16, description="defaults to the voice clone's language"
    )
    output_format: OutputFormat = "wav"
    sample_rate: int = Field(default=24_000, ge=8_000, le=48_000)
    speed: float = Field(default=1.0, ge=0.5, le=2.0)
    pitch: float = Field(default=1.0, ge=0.5, le=2.0, description="pitch ratio: 1.0 unchanged, 1.1 a little higher")
    pitch_semitones: float | None = Field(
        default=None, ge=-12.0, le=12.0, description="the same shift in semitones; given, it sets `pitch`"
    )
    volume: float = Field(default=1.0, ge=0.0, le=2.0, description="linear gain before limiting")
    config: JobConfig = JobConfig()
    project_id: str | None = Field(default=None, max_length=100)

    @model_validator(mode="after")
    def rate_fits_format(self) -> "JobOptions":
        problem = rate_problem(self.output_format, self.sample_rate)
        if problem:
            raise ValueError(problem)
        return self

    @model_validator(mode="after")
    def streamable(self) -> "JobOptions":
        if self.config.stream and self.output_format not in STREAMED_FORMATS:
            raise ValueError(f"{self.output_format} cannot be streamed; stream one of {', '.join(STREAMED_FORMATS)}")
        return self

    @model_validator(mode="after")
    def pitch_both_ways(self) -> "JobOptions":
        """`pitch` and `pitch_semitones` always agree; the semitones win when given."""
        self.pitch, self.pitch_semitones = pitch_pair(self.pitch, self.pitch_semitones)
        return self


def pitch_pair(ratio: float | None, semitones: float | None) -> tuple[float, float]:
    """(ratio, semitones) of one pitch shift given either way; semitones win when both are."""
    if semitones is not None:
        return round(2 ** (semitones / 12), 6), semitones
    ratio = 1.0 if ratio is None else ratio
    return ratio, round(12 * math.log2(ratio), 6)


class JobCreate(JobOptions):
    text_content: str | None = Field(
        default=None, min_length=1, max_length=MAX_TEXT_CHARS, examples=["Hello from Voxify."]
    )
    blocks: list[Block] | None = Field(default=None, min_length=1, max_length=MAX_BLOCKS)

    @model_validator(mode="after")
    def exactly_one_text_source(self) -> "JobCreate":
        if (self.text_content is None) == (self.blocks is None):
            raise ValueError("give exactly one of text_content or blocks")
        if self.blocks and sum(len(b.text) for b in self.blocks) > MAX_TEXT_CHARS:
            raise ValueError(f"blocks hold more than {MAX_TEXT_CHARS} characters in all")
        return self

    def as_blocks(self) -> list[Block]:
        return self.blocks or [Block(text=self.text_content or "")]


class JobUpdate(BaseModel):
    """PUT/PATCH body: any option, a new text, or `status: cancelled` (PATCH) to cancel.
    Other fields (progress, output paths: the worker's) are refused, not silently dropped."""

    model_config = ConfigDict(extra="forbid")

    text_content: str | None = Field(default=None, min_length=1, max_length=MAX_TEXT_CHARS)
    voice_model_id: str | None = None
    text_language: str | None = Field(default=None, min_length=2, max_length=16)
    output_format: OutputFormat | None = None
    sample_rate: int | None = Field(default=None, ge=8_000, le=48_000)
    speed: float | None = Field(default=None, ge=0.5, le=2.0)
    pitch: float | None = Field(default=None, ge=0.5, le=2.0)
    pitch_semitones: float | None = Field(default=None, ge=-12.0, le=12.0)
    volume: float | None = Field(default=None, ge=0.0, le=2.0)
    project_id: str | None = Field(default=None, max_length=100)
    status: Literal["cancelled"] | None = None

    @field_validator(
        "text_language", "output_format", "sample_rate", "speed", "pitch", "pitch_semitones", "volume", mode="before"
    )
    @classmethod
    def not_null(cls, value: Any) -> Any:
        """Leave an option out to keep it; null is not a value any of them can take."""
        if value is None:
            raise ValueError("may be left out, not set to null")
        return value


class JobBlock(BaseModel):
    """A block as jobs show it; `text` is null when a listing asked for include_text=false."""

    text: str | None
    voice_model_id: str | None = None
    wait_after_ms: int = 0


class Job(BaseModel):
    job_id: str
    user_id: str
    status: JobStatus
    blocks: list[JobBlock]
    text_content: str | None = Field(default=None, description="the blocks' text joined; null with include_text=false")
    text_hash: str | None = Field(default=None, description="SHA-256 of the text, to find repeated requests")
    text_length: int | None = Field(default=None, description="characters")
    word_count: int | None = None
    voice_model_id: str | None
    text_language: str
    output_format: OutputFormat
    sample_rate: int
    speed: float
    pitch: float = Field(description="ratio")
    pitch_semitones: float = Field(default=0.0, description="the same shift in semitones")
    volume: float
    config: JobConfig
    project_id: str | None = None
    source: str = "api"
    batch_id: str | None = None
    progress: int = 0
    progress_message: str | None = None
    output_key: str | None = None
    block_keys: list[str] = []
    duration_seconds: float | None = None
    timestamps: dict[str, Any] | None = None
    engine: dict[str, Any] | None = None
    watermark: OutputWatermark | None = Field(
        default=None,
        description="the watermark the output carries; null only where an administrator turned marking off",
    )
    speaker_similarity: float | None = Field(
        default=None, description="cosine similarity of the output's speaker embedding to its voice clone's"
    )
    error_code: str | None = None
    error_message: str | None = None
    created_at: str
    updated_at: str
    started_at: str | None = None
    finished_at: str | None = None


class StreamProgress(BaseModel):
    """How far a streaming job's chunks have got: `chunks` objects exist under attempt
    `attempt`'s prefix, and `ended` once the last of them is written."""

    attempt: int
    chunks: int = 0
    ended: bool = False


class JobRecord(Job, OwnedRecord):
    """A job as stored: the public fields plus what only the pipeline uses."""

    progress_version: int = Field(default=0, description="bumped by every write a progress stream shows")
    attempts: int = Field(default=0, description="claims so far; each attempt writes under its own prefix")
    timestamps_key: str | None = Field(
        default=None, description="where timestamps too large for the item (DynamoDB's 400 KB) are kept"
    )
    claim_owner: str | None = None
    claim_expires: int | None = Field(default=None, description="epoch seconds the worker's lease ends")
    last_error: str | None = Field(default=None, description="why the last attempt was handed back")
    batch_output_name: str | None = None
    batch_counted: str | None = Field(default=None, description="the outcome its batch has counted")
    correlation_id: str | None = Field(default=None, description="an inbound request's, echoed in events")
    stream: StreamProgress | None = Field(default=None, description="a streaming job's chunks so far")

    def claim_is_live(self, now: int) -> bool:
        """A worker holds the job at epoch second `now` (its claim has not run out)."""
        return self.status == JobStatus.PROCESSING and (self.claim_expires or 0) >= now

    @property
    def text(self) -> str:
        return " ".join(block.text or "" for block in self.blocks)

    def public(self, include_text: bool = True) -> Job:
        text = self.text
        job = view(
            Job,
            self,
            text_content=text if include_text else None,
            text_hash=hashlib.sha256(text.encode()).hexdigest(),
            text_length=len(text),
            word_count=len(text.split()),
        )
        if not include_text:
            job.blocks = [block.model_copy(update={"text": None}) for block in job.blocks]
        return job
