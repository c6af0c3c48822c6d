"""/api/v1/file/synthesis: the audio a job produced. The documents' other names for the same
files answer the same: /file/voice-clone/{job_id} (000) and /files/audio/{file_id} with
/files/{file_id}/info (001), where a file's id is its job's id."""

from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from voxify.domain.users import Scope
from voxify.http.deps import CurrentUser, require_scope
from voxify.http.downloads import DOWNLOAD, audio_download
from voxify.http.envelope import Answer, Envelope, ok
from voxify.logic import files, jobs
from voxify.logic.files import AudioFile

router = APIRouter(prefix="/api/v1", tags=["files"], dependencies=[Depends(require_scope(Scope.JOBS))])


def _answer(audio: AudioFile, inline: bool) -> Response:
    if inline:
        return Response(
            audio.read_inline(),
            media_type=audio.content_type,
            headers={"Content-Disposition": f'inline; filename="{audio.filename}"'},
        )
    return audio_download(audio)


@router.get("/file/synthesis/{job_id}", response_class=Response, responses=DOWNLOAD)
@router.get("/file/voice-clone/{job_id}", response_class=Response, responses=DOWNLOAD)
@router.get("/files/audio/{job_id}", response_class=Response, responses=DOWNLOAD)
def download(
    job_id: str,
    principal: CurrentUser,
    inline: bool = Query(False, description="the bytes to play in place (413 when too large for a response)"),
) -> Response:
    """The combined audio as an attachment: the bytes when they fit a response (4 MiB), so
    `curl -o` works without `-L`; larger files 302 to a presigned URL valid 5 minutes."""
    return _answer(files.job_output(jobs.get_job(principal.user_id, job_id)), inline)


@router.get("/file/synthesis/{job_id}/blocks/{index}", response_class=Response, responses=DOWNLOAD)
def download_block(job_id: str, index: int, principal: CurrentUser, inline: bool = False) -> Response:
    return _answer(files.job_output(jobs.get_job(principal.user_id, job_id), block=index), inline)


@router.get("/file/synthesis/{job_id}/info", response_model=Envelope[dict[str, Any]])
@router.get("/file/voice-clone/{job_id}/info", response_model=Envelope[dict[str, Any]])
@router.get("/files/{job_id}/info", response_model=Envelope[dict[str, Any]])
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


@router.delete("/file/synthesis/{job_id}", response_model=Envelope[None])
def delete_file(job_id: str, principal: CurrentUser) -> Answer:
    """Delete the audio but keep the job record."""
    jobs.delete_output(principal.user_id, job_id)
    return ok(None, "audio deleted")
