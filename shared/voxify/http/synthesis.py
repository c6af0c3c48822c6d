"""Submit a job and wait briefly for its audio: the synchronous face of an async pipeline.

Used by /tts/synthesize, /voice/clones/{id}/synthesize and the OpenAI-compatible route.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from voxify.domain.jobs import JobCreate, JobRecord, JobStatus
from voxify.errors import ErrorCode, VoxifyError
from voxify.http.envelope import ok
from voxify.http.idempotency import idempotent
from voxify.logic import files, jobs
from voxify.logic.auth import Principal
from voxify.settings import get_settings

AUDIO_URL_SECONDS = 900


def submit_idempotently(request: Request, principal: Principal, body: JobCreate) -> JobRecord:
    """The job of this request, submitted once per Idempotency-Key."""
    _, envelope, _ = idempotent(
        request,
        principal.user_id,
        body.model_dump(),
        lambda: (201, ok(jobs.submit_job(principal.user_id, body).public(), "job created")),
    )
    return jobs.get_job(principal.user_id, envelope["data"]["job_id"])


def finished_job_answer(job: JobRecord) -> dict[str, Any]:
    """What a synchronous caller gets for a completed job."""
    audio = files.job_output(job)
    shown = jobs.full_view(job)
    return {
        "job": shown,
        "audio_url": audio.download_url(expires_in=AUDIO_URL_SECONDS, attachment=False),
        "duration": job.duration_seconds,
        "format": job.output_format,
        "sample_rate": job.sample_rate,
        "timestamps": shown.timestamps,
    }


def synthesize_and_wait(request: Request, principal: Principal, body: JobCreate, wait: bool = True) -> Response:
    """200 with the audio (JSON, or raw bytes for `Accept: audio/*`), or 202 with the job."""
    created = submit_idempotently(request, principal, body)
    job = jobs.wait_for_job(created, get_settings().sync_wait_seconds if wait else 0)
    if job.status in (JobStatus.FAILED, JobStatus.CANCELLED):
        raise VoxifyError(
            ErrorCode.SYNTHESIS_FAILED,
            job.error_message or f"the job was {job.status}",
            {"job_id": job.job_id, "job_error_code": job.error_code},
        )
    if job.status != JobStatus.COMPLETED:
        return JSONResponse(
            ok(job.public(), "still running; poll the job or its progress"),
            status_code=202,
            headers={"Location": f"/api/v1/job/{job.job_id}"},
        )
    if request.headers.get("accept", "").startswith("audio/"):
        audio = files.job_output(job)
        return Response(audio.read(), media_type=audio.content_type, headers={"X-Job-Id": job.job_id})
    return JSONResponse(ok(finished_job_answer(job)))
