"""Drop-folder batches: the stored record, its counts, and the view the API shows."""

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

from voxify.domain.jobs import JobStatus
from voxify.domain.records import OwnedRecord, view

MAX_MANIFEST_BYTES = 1024 * 1024
# the terminal job states a batch counts, one counter each on the batch record
OUTCOMES = (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED)


class BatchStatus(StrEnum):
    CREATING = "creating"  # its jobs are being made
    PROCESSING = "processing"  # until every job has ended
    COMPLETED = "completed"
    COMPLETED_WITH_ERRORS = "completed_with_errors"
    FAILED = "failed"  # no line could run


class BatchUploadRequest(BaseModel):
    format: Literal["txt", "jsonl", "csv"] = Field(description="the manifest's format")
    size_bytes: int = Field(gt=0, le=MAX_MANIFEST_BYTES, description="exact size of the manifest")


class BatchCounts(BaseModel):
    lines: int
    accepted: int = Field(description="lines that became jobs")
    rejected: int = Field(description="lines reported as errors before any job was made")
    completed: int
    failed: int
    cancelled: int
    pending: int = Field(description="jobs not finished yet")


class BatchLine(BaseModel):
    """One manifest line: the job it became, or why it could not."""

    line: int
    output_name: str
    job_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None


class Batch(BaseModel):
    batch_id: str
    user_id: str
    status: BatchStatus
    manifest_key: str
    output_prefix: str
    total_lines: int
    counts: BatchCounts
    report_key: str | None = None
    lines: list[BatchLine] | None = Field(default=None, description="with include_lines=true")
    created_at: str
    updated_at: str
    finished_at: str | None = None


class BatchRecord(OwnedRecord):
    """A batch as stored: outcome counters move in the transaction that marks a job counted."""

    batch_id: str
    status: BatchStatus
    manifest_key: str
    manifest_etag: str = ""
    output_prefix: str
    total_lines: int
    accepted: int = 0
    rejected: int = 0
    completed: int = 0
    failed: int = 0
    cancelled: int = 0
    lines_key: str | None = Field(
        default=None, description="each line's job or error, in S3 (a thousand lines outgrow an item)"
    )
    report_key: str | None = None
    updated_at: str
    finished_at: str | None = None

    @property
    def ended_jobs(self) -> int:
        return self.completed + self.failed + self.cancelled

    def counts(self) -> BatchCounts:
        pending = max(0, self.accepted - self.ended_jobs) if self.status != BatchStatus.CREATING else 0
        return BatchCounts(
            lines=self.total_lines,
            accepted=self.accepted,
            rejected=self.rejected,
            completed=self.completed,
            failed=self.failed,
            cancelled=self.cancelled,
            pending=pending,
        )

    def public(self, lines: list[BatchLine] | None = None) -> Batch:
        """The batch as the API shows it; `lines` when the caller asked for them."""
        return view(Batch, self, counts=self.counts(), lines=lines)
