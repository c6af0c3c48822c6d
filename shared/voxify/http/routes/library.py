"""/api/v1/library: a user's samples and generated audio in one list."""

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import RedirectResponse

from voxify.errors import ErrorCode, VoxifyError
from voxify.http.deps import current_principal
from voxify.http.envelope import Envelope, ok, page_meta
from voxify.logic import jobs, voices
from voxify.logic.auth import Principal
from voxify.repositories.jobs import JobRepository
from voxify.repositories.voices import SampleRepository
from voxify.storage import AudioStore

router = APIRouter(prefix="/api/v1/library", tags=["library"])
ItemType = Literal["sample", "audio"]


def _entries(user_id: str) -> list[dict[str, Any]]:
    samples = [{"type": "sample", "id": s["sample_id"], "name": s["name"], "status": s["status"],
                "duration_seconds": s.get("duration_seconds"), "format": s.get("format"),
                "created_at": s["created_at"]} for s in SampleRepository().list_for(user_id)]
    audio = [{"type": "audio", "id": j["job_id"],
              "name": " ".join(b["text"] for b in j["blocks"])[:80], "status": j["status"],
              "duration_seconds": j.get("duration_seconds"), "format": j["output_format"],
              "created_at": j["created_at"]}
             for j in JobRepository().list_for(user_id) if j.get("output_key")]
    return sorted(samples + audio, key=lambda e: e["created_at"], reverse=True)


@router.get("", response_model=Envelope[list[dict[str, Any]]])
def library(type: ItemType | None = None, search: str | None = Query(None, max_length=200),
            limit: int = Query(20, ge=1, le=100), offset: int = Query(0, ge=0),
            principal: Principal = Depends(current_principal)) -> dict:
    entries = _entries(principal.user_id)
    counts = {"sample": sum(e["type"] == "sample" for e in entries),
              "audio": sum(e["type"] == "audio" for e in entries)}
    needle = search.lower() if search else None
    selected = [e for e in entries if (type is None or e["type"] == type)
                and (needle is None or needle in e["name"].lower())]
    meta = {**page_meta(len(selected), limit, offset), "counts": counts}
    return ok(selected[offset:offset + limit], meta=meta)


@router.get("/{item_type}/{item_id}/download", response_class=RedirectResponse, status_code=302)
def download(item_type: ItemType, item_id: str,
             principal: Principal = Depends(current_principal)) -> RedirectResponse:
    if item_type == "sample":
        key = voices.get_sample(principal.user_id, item_id)["original_key"]
    else:
        job = jobs.get_job(principal.user_id, item_id)
        if not job.get("output_key"):
            raise VoxifyError(ErrorCode.OUTPUT_NOT_READY, "this job has no audio")
        key = job["output_key"]
    return RedirectResponse(AudioStore().presigned_get(key), status_code=302)


@router.delete("/{item_type}/{item_id}", response_model=Envelope[None])
def delete(item_type: ItemType, item_id: str, principal: Principal = Depends(current_principal)) -> dict:
    if item_type == "sample":
        voices.delete_sample(principal.user_id, item_id)
    else:
        jobs.delete_output(principal.user_id, item_id)
    return ok(None, f"{item_type} deleted")
