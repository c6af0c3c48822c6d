"""/api/v1/file/synthesis: the audio a job produced."""

from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import RedirectResponse, Response

from voxify.domain.users import Scope
from voxify.http.deps import CurrentUser, require_scope
from voxify.http.envelope import Answer, Envelope, ok
from voxify.logic import files, jobs
from voxify.logic.files import AudioFile

router = APIRouter(prefix="/api/v1/file/synthesis", tags=["files"], dependencies=[Depends(require_scope(Scope.JOBS))])
INLINE_AUDIO: dict[int | str, dict[str, Any]] = {200: {"content": {"audio/*": {}}, "description": "with ?inline=1"}}


def _answer(audio: AudioFile, inline: bool) -> Response:
    if inline:
        return Response(
            audio.read_inline(),
            media_type=audio.content_type,
            headers={"Content-Disposition": f'inline; filename="{audio.filename}"'},
        )
    return RedirectResponse(audio.download_url(), status_code=302)


@router.get("/{job_id}", response_class=Response, status_code=302, responses=INLINE_AUDIO)
def download(
    job_id: str, principal: CurrentUser, inline: bool = Query(False, description="send the bytes, not a redirect")
) -> Response:
    """The combined audio: 302 to a presigned URL valid 5 minutes, or the bytes with ?inline=1."""
    return _answer(files.job_output(jobs.get_job(principal.user_id, job_id)), inline)


@router.get("/{job_id}/blocks/{index}", response_class=Response, status_code=302, responses=INLINE_AUDIO)
def download_block(job_id: str, index: int, principal: CurrentUser, inline: bool = False) -> Response:
    return _answer(files.job_output(jobs.get_job(principal.user_id, job_id), block=index), inline)


@router.get("/{job_id}/info", response_model=Envelope[dict[str, Any]])
def file_info(job_id: str, principal: CurrentUser) -> Answer:
    job = files.finished(jobs.get_job(principal.user_id, job_id))
    return ok(
        {
            "job_id": job_id,
            "format": job.output_format,
            "sample_rate": job.sample_rate,
            "duration_seconds": job.duration_seconds,
            "size_bytes": files.job_output(job).size(),
            "blocks": len(job.block_keys),
            "engine": job.engine,
            "timestamps": jobs.full_view(job).timestamps,
        }
    )


@router.delete("/{job_id}", response_model=Envelope[None])
def delete_file(job_id: str, principal: CurrentUser) -> Answer:
    """Delete the audio but keep the job record."""
    jobs.delete_output(principal.user_id, job_id)
    return ok(None, "audio deleted")
