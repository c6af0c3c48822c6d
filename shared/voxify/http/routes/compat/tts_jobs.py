"""The TTS jobs API of specification 003: `POST /token`, `GET /tts/providers`, `POST /tts`
(blocks, each with its voice and pause), `GET /status/{job_id}`, `GET /result/{job_id}` and
the block and whole-job audio.

One provider, `voxify`, whose voices are the caller's clones (by id or name; `default` is
the active voice). Errors carry both shapes the document shows: `{"detail": ...}` and
`{"error": {code, message}}`. Deviations: docs/compatibility.md.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import Response
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field

from voxify.clock import new_id
from voxify.domain.jobs import Block, JobCreate, JobRecord, JobStatus
from voxify.domain.users import Scope
from voxify.errors import ErrorCode, VoxifyError
from voxify.http.compat import Face
from voxify.http.deps import CurrentUser, client_ip, require_scope
from voxify.http.downloads import DOWNLOAD, audio_download
from voxify.logic import auth, files, jobs, voices

PROVIDER = "voxify"
DEFAULT_VOICE = "default"


class CodedMessage(BaseModel):
    code: str
    message: str


class TtsError(BaseModel):
    """Both shapes the document shows: FastAPI's `detail`, and `error{code, message}`."""

    detail: str
    error: CodedMessage


def error_shape(code: str, message: str) -> dict[str, Any]:
    return TtsError(detail=message, error=CodedMessage(code=code, message=message)).model_dump()


FACE = Face(
    tag="TTS jobs API (spec 003)",
    shape=error_shape,
    messages={
        ErrorCode.INVALID_CREDENTIALS: "Incorrect username or password",
        ErrorCode.OUTPUT_NOT_READY: "the job is not complete yet",
    },
    statuses={409: 400},
    error_model=TtsError,
)
router = FACE.router()
jobs_router = FACE.router(dependencies=[Depends(require_scope(Scope.JOBS))])


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"


@router.post("/token", response_model=Token)
def token(form: Annotated[OAuth2PasswordRequestForm, Depends()], request: Request) -> Token:
    """Form fields `username` (the account's e-mail or user name) and `password`."""
    auth.throttle("login", client_ip(request), form.username)
    return Token(access_token=auth.login(form.username, form.password).access_token)


class ProviderVoice(BaseModel):
    voice_id: str
    name: str
    language: str
    status: str


class Provider(BaseModel):
    name: str
    voices: list[ProviderVoice]


def _voices(user_id: str) -> list[ProviderVoice]:
    return [
        ProviderVoice(voice_id=c.clone_id, name=c.name, language=c.language, status=c.status)
        for c in voices.list_clones(user_id)
    ]


@jobs_router.get("/tts/providers", response_model=list[Provider])
def providers(principal: CurrentUser) -> list[Provider]:
    """Every provider with its voices: here one, `voxify`, speaking with your voice clones."""
    return [Provider(name=PROVIDER, voices=_voices(principal.user_id))]


@jobs_router.get("/tts/providers/{provider_name}", response_model=list[ProviderVoice])
def provider_voices(provider_name: str, principal: CurrentUser) -> list[ProviderVoice]:
    if provider_name != PROVIDER:
        raise VoxifyError(ErrorCode.NOT_FOUND, f"Provider '{provider_name}' not found.")
    return _voices(principal.user_id)


class TextBlock(BaseModel):
    text: str = Field(min_length=1, max_length=1000)
    wait_after_ms: int = Field(default=0, ge=0, le=60_000)
    provider: str = PROVIDER
    voice: str = Field(default=DEFAULT_VOICE, min_length=1, max_length=200)
    arabic: bool = False


class TtsRequest(BaseModel):
    project_id: str | None = Field(default=None, max_length=100)
    user_id: str = Field(min_length=1, max_length=320)
    blocks: list[TextBlock] = Field(min_length=1, max_length=100)


class TtsAccepted(BaseModel):
    job_id: str
    status: str


def _voice_id(user_id: str, block: TextBlock) -> str | None:
    """The clone a block speaks with; None for `default` (the active voice)."""
    if block.provider != PROVIDER:
        raise VoxifyError(ErrorCode.VALIDATION_ERROR, f"invalid provider '{block.provider}': use '{PROVIDER}'")
    if block.voice == DEFAULT_VOICE:
        return None
    try:
        return voices.find_clone(user_id, block.voice).clone_id
    except VoxifyError:
        raise VoxifyError(ErrorCode.VALIDATION_ERROR, f"invalid voice '{block.voice}'") from None


def _job_request(user_id: str, body: TtsRequest) -> JobCreate:
    if len({b.arabic for b in body.blocks}) > 1:
        raise VoxifyError(ErrorCode.VALIDATION_ERROR, "arabic must be the same for every block of a job")
    blocks = [
        Block(text=b.text, voice_model_id=_voice_id(user_id, b), wait_after_ms=b.wait_after_ms) for b in body.blocks
    ]
    return JobCreate(
        blocks=blocks,
        voice_model_id=blocks[0].voice_model_id,
        text_language="ar" if body.blocks[0].arabic else None,  # else the voice's language
        project_id=body.project_id or new_id("prj"),
    )


@jobs_router.post("/tts", status_code=202, response_model=TtsAccepted)
def create_tts(body: TtsRequest, principal: CurrentUser) -> TtsAccepted:
    """Queue a job of text blocks; each block may name its voice and a pause after it."""
    if body.user_id != principal.user_id and not auth.names_user(principal.user_id, body.user_id):
        raise VoxifyError(ErrorCode.FORBIDDEN, "user_id must be your own user id, e-mail address or user name")
    job = jobs.submit_job(principal.user_id, _job_request(principal.user_id, body))
    return TtsAccepted(job_id=job.job_id, status=_status(job))


def _status(job: JobRecord) -> str:
    return "queued" if job.status == JobStatus.PENDING else job.status.value


class JobStatusAnswer(BaseModel):
    job_id: str
    status: str = Field(examples=["queued", "processing", "completed", "failed"])
    progress: str = Field(examples=["2/5"], description="blocks rendered / blocks")
    result_url: str = Field(description="empty until the job completes")


@jobs_router.get("/status/{job_id}", response_model=JobStatusAnswer)
def job_status(job_id: str, principal: CurrentUser) -> JobStatusAnswer:
    job = jobs.get_job(principal.user_id, job_id)
    done = job.status == JobStatus.COMPLETED
    return JobStatusAnswer(
        job_id=job_id,
        status=_status(job),
        progress=f"{jobs.blocks_done(job)}/{len(job.blocks)}",
        result_url=f"/result/{job_id}/audio" if done else "",
    )


class JobResult(BaseModel):
    job_id: str
    result_url: str
    block_urls: list[str]


@jobs_router.get("/result/{job_id}", response_model=JobResult)
def job_result(job_id: str, principal: CurrentUser) -> JobResult:
    """400 until the job is complete."""
    job = files.finished(jobs.get_job(principal.user_id, job_id))
    return JobResult(
        job_id=job_id,
        result_url=f"/result/{job_id}/audio",
        block_urls=[f"/result/{job_id}/block/{i}/audio" for i in range(len(job.block_keys))],
    )


@jobs_router.get("/result/{job_id}/audio", response_class=Response, responses=DOWNLOAD)
def result_audio(job_id: str, principal: CurrentUser) -> Response:
    return audio_download(files.job_output(jobs.get_job(principal.user_id, job_id)))


@jobs_router.get("/result/{job_id}/block/{block_index}/audio", response_class=Response, responses=DOWNLOAD)
def block_audio(job_id: str, block_index: int, principal: CurrentUser) -> Response:
    return audio_download(files.job_output(jobs.get_job(principal.user_id, job_id), block=block_index))
