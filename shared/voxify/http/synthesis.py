"""Submit a job and wait briefly for its audio: the synchronous face of an async pipeline.

Used by /tts/synthesize, /voice/clones/{id}/synthesize, and by the routes that answer raw
audio (the OpenAI-compatible route, the /voices API's synthesize).
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
    timestamps = shown.timestamps or {}
    return {
        "synthesis_id": job.job_id,
        "job": shown,
        "audio_url": audio.download_url(expires_in=AUDIO_URL_SECONDS, attachment=False),
        "duration": job.duration_seconds,
        "format": job.output_format,
        "sample_rate": job.sample_rate,
        "timestamps": shown.timestamps,
        "word_timestamps": timestamps.get("words"),
        "syllable_timestamps": timestamps.get("syllables"),
    }


def synthesize_and_wait(
    request: Request, principal: Principal, body: JobCreate, wait: bool = True, raw: bool = False
) -> Response:
    """200 with the audio (JSON, or raw bytes for `Accept: audio/*` or `raw`), or 202 with the job."""
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
    if raw or request.headers.get("accept", "").startswith("audio/"):
        audio = files.job_output(job)
        return Response(audio.read(), media_type=audio.content_type, headers={"X-Job-Id": job.job_id})
    return JSONResponse(ok(finished_job_answer(job)))


def spoken_audio(user_id: str, body: JobCreate) -> Response:
    """Submit a job and answer its audio bytes once it completes: 504 SYNTHESIS_TIMEOUT when it
    is not ready in time, 422 SYNTHESIS_FAILED when it failed (the job id in the details)."""
    job = jobs.wait_for_job(jobs.submit_job(user_id, body), get_settings().sync_wait_seconds)
    if job.status != JobStatus.COMPLETED:
        raise VoxifyError(
            ErrorCode.SYNTHESIS_FAILED if job.status.is_terminal else ErrorCode.SYNTHESIS_TIMEOUT,
            job.error_message or "the speech was not ready in time",
            {"job_id": job.job_id, "status": job.status},
        )
    audio = files.job_output(job)
    return Response(audio.read(), media_type=audio.content_type, headers={"X-Job-Id": job.job_id})
