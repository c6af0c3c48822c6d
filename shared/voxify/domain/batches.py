"""Drop-folder batches as the API shows them."""

from typing import Any, Literal

from pydantic import BaseModel, Field

from voxify.logic.manifests import MAX_MANIFEST_BYTES


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


class Batch(BaseModel):
    batch_id: str
    user_id: str
    status: str = Field(description="creating, processing, completed, completed_with_errors or failed")
    manifest_key: str
    output_prefix: str
    total_lines: int
    counts: BatchCounts
    report_key: str | None = None
    lines: list[dict[str, Any]] | None = Field(default=None, description="with include_lines=true")
    created_at: str
    updated_at: str
    finished_at: str | None = None
