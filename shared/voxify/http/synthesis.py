"""Create a job and wait briefly for its audio: the synchronous face of an async pipeline.

Used by /tts/synthesize, /voice/clones/{id}/synthesize and the OpenAI-compatible route.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from voxify.domain.jobs import TERMINAL, JobCreate
from voxify.errors import ErrorCode, VoxifyError
from voxify.http.envelope import ok
from voxify.http.idempotency import idempotent
from voxify.logic import jobs
from voxify.logic.auth import Principal
from voxify.logic.usage import with_daily_quota
from voxify.repositories.jobs import JobRepository
from voxify.settings import get_settings
from voxify.storage import CONTENT_TYPES, AudioStore

POLL_SECONDS = 0.25


def create_job_for(principal: Principal, body: JobCreate, source: str = "api") -> dict[str, Any]:
    """Create a job, paying one unit of the daily job quota (refunded if creation fails)."""
    return with_daily_quota(principal.user_id, "job",
                            lambda: jobs.create_job(principal.user_id, body, source=source))


def create_job_idempotently(request: Request, principal: Principal, body: JobCreate) -> dict[str, Any]:
    """The job of this request, created once per Idempotency-Key."""
    _, envelope, _ = idempotent(request, principal.user_id, body.model_dump(), lambda: (
        201, ok(jobs.public_job(create_job_for(principal, body)), "job created")))
    return envelope["data"]


def wait_for_job(job_id: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    repository = JobRepository()
    while True:
        job = repository.get(job_id)
        if job is None or job["status"] in TERMINAL or time.monotonic() >= deadline:
            return job or {}
        time.sleep(POLL_SECONDS)


def finished_job_answer(job: dict[str, Any]) -> dict[str, Any]:
    """What a synchronous caller gets for a completed job."""
    return {
        "job": jobs.public_job(job),
        "audio_url": AudioStore().presigned_get(job["output_key"], expires_in=900),
        "duration": job.get("duration_seconds"),
        "format": job["output_format"],
        "sample_rate": job["sample_rate"],
        "timestamps": job.get("timestamps"),
    }


def synthesize_and_wait(request: Request, principal: Principal, body: JobCreate,
                        wait: bool = True) -> Response:
    """200 with the audio (JSON, or raw bytes for `Accept: audio/*`), or 202 with the job."""
    created = create_job_idempotently(request, principal, body)
    job = wait_for_job(created["job_id"], get_settings().sync_wait_seconds if wait else 0)
    if job.get("status") in ("failed", "cancelled"):
        raise VoxifyError(ErrorCode.SYNTHESIS_FAILED, job.get("error_message") or f"the job was {job['status']}",
                          {"job_id": job["job_id"], "job_error_code": job.get("error_code")})
    if job.get("status") != "completed":
        return JSONResponse(ok(jobs.public_job(job), "still running; poll the job or its progress"),
                            status_code=202, headers={"Location": f"/api/v1/job/{job['job_id']}"})
    if request.headers.get("accept", "").startswith("audio/"):
        return Response(AudioStore().get(job["output_key"]),
                        media_type=CONTENT_TYPES[job["output_format"]],
                        headers={"X-Job-Id": job["job_id"]})
    return JSONResponse(ok(finished_job_answer(job)))
