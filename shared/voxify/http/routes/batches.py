"""/api/v1/batches: drop-folder uploads and batch progress."""

from typing import Any

from fastapi import APIRouter, Depends, Query

from voxify.clock import new_id
from voxify.domain.batches import Batch, BatchUploadRequest
from voxify.errors import found
from voxify.http.deps import current_principal
from voxify.http.envelope import Envelope, ok, paged
from voxify.logic.auth import Principal
from voxify.logic.batches import public_batch
from voxify.repositories.batches import BatchRepository
from voxify.storage import AudioStore, dropbox_prefix

router = APIRouter(prefix="/api/v1/batches", tags=["batches"])


@router.post("/uploads", status_code=201, response_model=Envelope[dict[str, Any]])
def upload_manifest(body: BatchUploadRequest, principal: Principal = Depends(current_principal)) -> dict:
    """A presigned POST into your own drop folder; the batch starts when the manifest lands.

    Manifests: `.txt` (one utterance per line, your active voice), `.jsonl` or `.csv` with
    text plus optional voice_id, format, sample_rate, speed, language, output_name.
    """
    key = f"{dropbox_prefix(principal.user_id)}{new_id('mf')}.{body.format}"
    upload = AudioStore().presigned_post(key, body.size_bytes)
    return ok({"manifest_key": key, "upload": upload}, "POST the manifest to upload.url with upload.fields")


@router.get("", response_model=Envelope[list[Batch]])
def list_batches(limit: int = Query(20, ge=1, le=100), offset: int = Query(0, ge=0),
                 principal: Principal = Depends(current_principal)) -> dict:
    return paged([public_batch(b) for b in BatchRepository().list_for(principal.user_id)], limit, offset)


@router.get("/{batch_id}", response_model=Envelope[Batch])
def get_batch(batch_id: str, include_lines: bool = False,
              principal: Principal = Depends(current_principal)) -> dict:
    """Progress counts; with include_lines, each line's job or error."""
    batch = found(BatchRepository().get_owned(batch_id, principal.user_id), "batch")
    return ok(public_batch(batch, include_lines=include_lines))
