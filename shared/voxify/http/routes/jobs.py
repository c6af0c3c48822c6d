"""/api/v1/job: create, list, read, edit, cancel, delete, and follow progress (SSE)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import StreamingResponse

from voxify.domain.jobs import Job, JobCreate, JobRecord, JobStatus, JobUpdate
from voxify.domain.users import Scope
from voxify.http.deps import CurrentUser, Page, counts_own_request, require_scope
from voxify.http.envelope import Answer, Envelope, ok, paged
from voxify.http.idempotency import run_idempotent
from voxify.logic import jobs
from voxify.settings import get_settings

router = APIRouter(prefix="/api/v1/job", tags=["jobs"], dependencies=[Depends(require_scope(Scope.JOBS))])
# 001 also reads a job at /jobs/{job_id}
plural = APIRouter(prefix="/api/v1/jobs", tags=["jobs"], dependencies=[Depends(require_scope(Scope.JOBS))])

JOB_EXAMPLE = {
    "text_content": "Hello from Voxify.",
    "voice_model_id": "vox_...",
    "output_format": "mp3",
    "sample_rate": 24000,
    "config": {"include_timestamps": True, "timestamp_granularity": "word"},
}


@router.post(
    "",
    status_code=201,
    response_model=Envelope[Job],
    openapi_extra={"requestBody": {"content": {"application/json": {"example": JOB_EXAMPLE}}}},
)
@counts_own_request
def create_job(body: JobCreate, request: Request, principal: CurrentUser) -> Any:
    """Queue a synthesis job: `text_content`, or `blocks` for multi-voice scripts with pauses."""
    return run_idempotent(
        request,
        principal.user_id,
        body.model_dump(),
        lambda: (
            201,
            ok(
                jobs.submit_job(principal.user_id, body, count_request=True).public(),
                "Synthesis job created successfully",
            ),
        ),
    )


@router.get("", response_model=Envelope[list[Job]])
def list_jobs(
    principal: CurrentUser,
    page: Page,
    status: JobStatus | None = None,
    voice_model_id: str | None = None,
    project_id: str | None = None,
    text_search: str | None = Query(default=None, max_length=200),
    sort_by: jobs.SortField = "created_at",
    sort_order: Literal["asc", "desc"] = "desc",
    include_text: bool = True,
    user_id: str | None = Query(default=None, description="another user's jobs (administrators only)"),
) -> Answer:
    found = jobs.list_jobs(
        jobs.jobs_owner(principal.user_id, principal.role, user_id),
        status=status,
        voice_model_id=voice_model_id,
        project_id=project_id,
        text_search=text_search,
        sort_by=sort_by,
        sort_order=sort_order,
    )
    return paged([job.public(include_text) for job in found], page)


@router.get("/{job_id}", response_model=Envelope[Job])
@plural.get("/{job_id}", response_model=Envelope[Job])
def get_job(job_id: str, principal: CurrentUser) -> Answer:
    return ok(jobs.full_view(jobs.get_job(principal.user_id, job_id)))


@router.put("/{job_id}", response_model=Envelope[Job])
@router.patch("/{job_id}", response_model=Envelope[Job])
def update_job(job_id: str, body: JobUpdate, principal: CurrentUser) -> Answer:
    """Edit a pending job; `{"status": "cancelled"}` cancels a pending or running one."""
    return ok(jobs.update_job(principal.user_id, job_id, body).public())


@router.delete("/{job_id}", response_model=Envelope[None])
def delete_job(job_id: str, principal: CurrentUser) -> Answer:
    """Deletes the job and its audio; 409 JOB_PROCESSING while a worker is on it."""
    jobs.delete_job(principal.user_id, job_id)
    return ok(None, "Job deleted successfully")


@router.post("/{job_id}/cancel", response_model=Envelope[Job], deprecated=True)
def cancel_job(job_id: str, principal: CurrentUser) -> Answer:
    """Deprecated: use PATCH /job/{id} with `{"status": "cancelled"}`."""
    return ok(jobs.cancel_job(principal.user_id, job_id).public())


@router.get(
    "/{job_id}/progress", response_class=StreamingResponse, responses={200: {"content": {"text/event-stream": {}}}}
)
async def job_progress(
    job_id: str, principal: CurrentUser, last_event_id: str | None = Header(default=None)
) -> StreamingResponse:
    """Server-Sent Events, unnamed so that `EventSource.onmessage` receives them: one
    `data: {progress, status, message, ...}` per change (`output_file_path` and `duration` once
    completed), then `data: {"event": "complete"}` at a terminal state.

    Event ids are the job's progress version; reconnect with `Last-Event-ID` to resume.
    The stream ends after `VOXIFY_SSE_MAX_SECONDS` (25 s by default, as API Gateway
    requires) with a `retry` hint; EventSource clients reconnect by themselves.
    """
    jobs.get_job(principal.user_id, job_id)
    start_after = int(last_event_id) if last_event_id and last_event_id.isascii() and last_event_id.isdigit() else -1
    return StreamingResponse(
        _progress_events(job_id, start_after),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _progress_events(job_id: str, last_sent: int) -> AsyncIterator[str]:
    settings = get_settings()
    deadline = time.monotonic() + settings.sse_max_seconds
    yield "retry: 1000\n\n"
    while True:
        job = await asyncio.to_thread(jobs.find_job, job_id)
        if job is None:
            yield _event({"event": "gone", "job_id": job_id}, None)
            return
        terminal = job.status.is_terminal
        if job.progress_version > last_sent or terminal:
            yield _event(_progress(job), job.progress_version)
            last_sent = job.progress_version
        if terminal:
            yield _event({"event": "complete"}, None)
        if terminal or time.monotonic() >= deadline:
            return
        await asyncio.sleep(settings.sse_poll_seconds)


def _progress(job: JobRecord) -> dict[str, Any]:
    """One progress event, with the fields the API documents."""
    shown: dict[str, Any] = {
        "job_id": job.job_id,
        "status": job.status,
        "progress": float(job.progress),
        "message": job.progress_message,
    }
    if job.status == JobStatus.COMPLETED:
        shown |= {"output_file_path": f"/api/v1/file/synthesis/{job.job_id}", "duration": job.duration_seconds}
    if job.error_code:
        shown |= {"error_code": job.error_code, "error_message": job.error_message}
    return shown


def _event(data: dict[str, Any], event_id: int | None) -> str:
    lines = [] if event_id is None else [f"id: {event_id}"]
    lines.append(f"data: {json.dumps(data)}")
    return "\n".join(lines) + "\n\n"
