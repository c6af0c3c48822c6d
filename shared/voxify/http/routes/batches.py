"""/api/v1/batches: drop-folder uploads and batch progress."""

from typing import Any

from fastapi import APIRouter, Depends

from voxify.domain.batches import Batch, BatchUploadRequest
from voxify.domain.users import Scope
from voxify.http.deps import CurrentUser, Page, require_scope
from voxify.http.envelope import Answer, Envelope, ok, paged
from voxify.logic import batches

router = APIRouter(prefix="/api/v1/batches", tags=["batches"], dependencies=[Depends(require_scope(Scope.JOBS))])


@router.post("/uploads", status_code=201, response_model=Envelope[dict[str, Any]])
def upload_manifest(body: BatchUploadRequest, principal: CurrentUser) -> Answer:
    """A presigned POST into your own drop folder; the batch starts when the manifest lands.

    Manifests: `.txt` (one utterance per line, your active voice), `.jsonl` or `.csv` with
    text plus optional voice_id, format, sample_rate, speed, language, output_name.
    """
    upload = batches.manifest_upload(principal.user_id, body.format, body.size_bytes)
    return ok(upload, "POST the manifest to upload.url with upload.fields")


@router.get("", response_model=Envelope[list[Batch]])
def list_batches(principal: CurrentUser, page: Page) -> Answer:
    return paged([b.public() for b in batches.list_batches(principal.user_id)], page)


@router.get("/{batch_id}", response_model=Envelope[Batch])
def get_batch(batch_id: str, principal: CurrentUser, include_lines: bool = False) -> Answer:
    """Progress counts; with include_lines, each line's job or error."""
    batch = batches.get_batch(principal.user_id, batch_id)
    return ok(batch.public(lines=batches.batch_lines(batch) if include_lines else None))
