"""/api/v1/file/synthesis: the audio a job produced."""

from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import RedirectResponse, Response

from voxify.errors import ErrorCode, VoxifyError, not_found
from voxify.http.deps import current_principal
from voxify.http.envelope import Envelope, ok
from voxify.logic import jobs
from voxify.logic.auth import Principal
from voxify.storage import CONTENT_TYPES, AudioStore

router = APIRouter(prefix="/api/v1/file/synthesis", tags=["files"])
INLINE_LIMIT_BYTES = 5 * 1024 * 1024  # under Lambda's ~6 MB response cap after base64


def _finished_output(principal: Principal, job_id: str) -> dict[str, Any]:
    job = jobs.get_job(principal.user_id, job_id)
    if job["status"] != "completed" or not job.get("output_key"):
        raise VoxifyError(ErrorCode.OUTPUT_NOT_READY, f"the job is {job['status']} and has no audio",
                          {"status": job["status"]})
    return job


def _answer(job: dict[str, Any], key: str, inline: bool, filename: str) -> Response:
    store = AudioStore()
    if inline:
        head = store.head(key)
        if head is None:
            raise not_found("audio file")
        if head["ContentLength"] > INLINE_LIMIT_BYTES:
            raise VoxifyError(ErrorCode.PAYLOAD_TOO_LARGE, "too large to send inline; omit ?inline=1")
        return Response(store.get(key), media_type=CONTENT_TYPES[job["output_format"]],
                        headers={"Content-Disposition": f'inline; filename="{filename}"'})
    return RedirectResponse(store.presigned_get(key, expires_in=300, filename=filename), status_code=302)


INLINE_AUDIO: dict[int | str, dict[str, Any]] = {200: {"content": {"audio/*": {}}, "description": "with ?inline=1"}}


@router.get("/{job_id}", response_class=Response, status_code=302, responses=INLINE_AUDIO)
def download(job_id: str, inline: bool = Query(False, description="send the bytes, not a redirect"),
             principal: Principal = Depends(current_principal)) -> Response:
    """The combined audio: 302 to a presigned URL valid 5 minutes, or the bytes with ?inline=1."""
    job = _finished_output(principal, job_id)
    return _answer(job, job["output_key"], inline, f"{job_id}.{job['output_format']}")


@router.get("/{job_id}/blocks/{index}", response_class=Response, status_code=302, responses=INLINE_AUDIO)
def download_block(job_id: str, index: int, inline: bool = False,
                   principal: Principal = Depends(current_principal)) -> Response:
    job = _finished_output(principal, job_id)
    keys = job.get("block_keys") or []
    if not 0 <= index < len(keys):
        raise not_found("block")
    return _answer(job, keys[index], inline, f"{job_id}-{index}.{job['output_format']}")


@router.get("/{job_id}/info", response_model=Envelope[dict[str, Any]])
def file_info(job_id: str, principal: Principal = Depends(current_principal)) -> dict:
    job = _finished_output(principal, job_id)
    head = AudioStore().head(job["output_key"]) or {}
    return ok({"job_id": job_id, "format": job["output_format"], "sample_rate": job["sample_rate"],
               "duration_seconds": job.get("duration_seconds"), "size_bytes": head.get("ContentLength"),
               "blocks": len(job.get("block_keys") or []), "engine": job.get("engine"),
               "timestamps": job.get("timestamps")})


@router.delete("/{job_id}", response_model=Envelope[None])
def delete_file(job_id: str, principal: Principal = Depends(current_principal)) -> dict:
    """Delete the audio but keep the job record."""
    jobs.delete_output(principal.user_id, job_id)
    return ok(None, "audio deleted")
