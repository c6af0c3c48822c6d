"""/api/v1/tts and the OpenAI-compatible /v1/audio/speech."""

from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from voxify.domain.jobs import MAX_TEXT_CHARS, JobCreate, JobStatus, OutputFormat
from voxify.domain.users import Scope
from voxify.errors import ErrorCode, VoxifyError
from voxify.http.deps import CurrentUser, require_scope
from voxify.http.envelope import Envelope, ok
from voxify.http.idempotency import run_idempotent
from voxify.http.synthesis import synthesize_and_wait
from voxify.logic import files, jobs, voices
from voxify.settings import get_settings

router = APIRouter(tags=["tts"], dependencies=[Depends(require_scope(Scope.JOBS))])


@router.post(
    "/api/v1/tts/synthesize",
    response_model=Envelope[dict[str, Any]],
    responses={200: {"content": {"audio/*": {}}}, 202: {"description": "still running"}},
)
def synthesize(body: JobCreate, request: Request, principal: CurrentUser) -> Response:
    """Synchronous: JSON with `audio_url`, `duration` and timestamps, or the raw audio for
    `Accept: audio/*`. Jobs that take longer than ~20 s answer 202 with the job."""
    return synthesize_and_wait(request, principal, body)


@router.post("/api/v1/tts/synthesize/async", status_code=202, response_model=Envelope[dict[str, Any]])
def synthesize_async(body: JobCreate, request: Request, principal: CurrentUser) -> Any:
    return run_idempotent(
        request,
        principal.user_id,
        body.model_dump(),
        lambda: (202, ok(jobs.submit_job(principal.user_id, body).public(), "job queued")),
    )


class SpeechRequest(BaseModel):
    """OpenAI's audio.speech request; `voice` is a clone id or a clone name."""

    model: str = Field(default="voxify", examples=["tts-1"])
    input: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    voice: str = Field(min_length=1, max_length=200)
    response_format: Literal["mp3", "opus", "flac", "wav", "aac", "pcm"] = "mp3"
    speed: float = Field(default=1.0, ge=0.5, le=2.0)


OPENAI_FORMATS: dict[str, OutputFormat] = {"mp3": "mp3", "opus": "ogg", "flac": "flac", "wav": "wav"}


@router.post(
    "/v1/audio/speech",
    response_class=Response,
    tags=["openai compatible"],
    responses={200: {"content": {"audio/mpeg": {}, "audio/wav": {}, "audio/flac": {}, "audio/ogg": {}}}},
)
def openai_speech(body: SpeechRequest, principal: CurrentUser) -> Response:
    """OpenAI-compatible speech: existing OpenAI clients can speak with cloned voices."""
    if body.response_format not in OPENAI_FORMATS:
        raise VoxifyError(
            ErrorCode.VALIDATION_ERROR,
            f"response_format {body.response_format} is not offered",
            {"supported": sorted(OPENAI_FORMATS)},
        )
    clone = voices.find_clone(principal.user_id, body.voice)
    job = jobs.submit_job(
        principal.user_id,
        JobCreate(
            text_content=body.input,
            voice_model_id=clone.clone_id,
            output_format=OPENAI_FORMATS[body.response_format],
            speed=body.speed,
            text_language=clone.language,
        ),
    )
    job = jobs.wait_for_job(job, get_settings().sync_wait_seconds)
    if job.status != JobStatus.COMPLETED:
        raise VoxifyError(
            ErrorCode.SYNTHESIS_FAILED if job.status.is_terminal else ErrorCode.SYNTHESIS_TIMEOUT,
            job.error_message or "the speech was not ready in time",
            {"job_id": job.job_id, "status": job.status},
        )
    audio = files.job_output(job)
    return Response(audio.read(), media_type=audio.content_type)
