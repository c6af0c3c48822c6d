"""/api/v1/tts and the OpenAI-compatible /v1/audio/speech."""

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, model_validator

from voxify.domain.jobs import MAX_TEXT_CHARS, Job, JobConfig, JobCreate, OutputFormat, rate_problem
from voxify.domain.users import Scope
from voxify.errors import ErrorCode, VoxifyError
from voxify.http.deps import CurrentUser, require_scope
from voxify.http.envelope import Envelope, ok
from voxify.http.idempotency import Created, run_idempotent
from voxify.http.synthesis import spoken_audio, synthesize_and_wait
from voxify.logic import jobs, voices

router = APIRouter(tags=["tts"], dependencies=[Depends(require_scope(Scope.JOBS))])


class SpeakConfig(JobConfig):
    output_format: OutputFormat = "wav"
    sample_rate: int = Field(default=22_050, ge=8_000, le=48_000)

    @model_validator(mode="after")
    def rate_fits_format(self) -> "SpeakConfig":
        problem = rate_problem(self.output_format, self.sample_rate)
        if problem:
            raise ValueError(problem)
        return self


class SpeakRequest(BaseModel):
    """001's synthesis body: `text`, `voice_id` (a clone id, or a trained sample's id) and
    `config`; the job body (`text_content`, ...) is taken too."""

    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    voice_id: str | None = Field(default=None, description="defaults to the active voice")
    text_language: str | None = Field(default=None, min_length=2, max_length=16)
    config: SpeakConfig = SpeakConfig()

    def job(self) -> JobCreate:
        options = self.config.model_dump(exclude={"output_format", "sample_rate"})
        return JobCreate.model_validate(
            {
                "text_content": self.text,
                "voice_model_id": self.voice_id,
                "output_format": self.config.output_format,
                "sample_rate": self.config.sample_rate,
                "config": options,
                "text_language": self.text_language,
            }
        )


SPEAK_EXAMPLE = {
    "text": "Hello world, this is a test.",
    "voice_id": "vox_...",
    "config": {
        "output_format": "wav",
        "sample_rate": 22050,
        "include_timestamps": True,
        "timestamp_granularity": "both",
    },
}
SPEAK_BODY: dict[str, Any] = {"requestBody": {"content": {"application/json": {"example": SPEAK_EXAMPLE}}}}


def _job_of(body: JobCreate | SpeakRequest) -> JobCreate:
    return body if isinstance(body, JobCreate) else body.job()


@router.post(
    "/api/v1/tts/synthesize",
    response_model=Envelope[dict[str, Any]],
    responses={200: {"content": {"audio/*": {}}}, 202: {"description": "still running"}},
    openapi_extra=SPEAK_BODY,
)
def synthesize(body: SpeakRequest | JobCreate, request: Request, principal: CurrentUser) -> Response:
    """Synchronous: JSON with `synthesis_id`, `audio_url`, `duration`, `word_timestamps` and
    `syllable_timestamps`, or the raw audio for `Accept: audio/*`. Jobs that take longer than
    ~20 s answer 202 with the job."""
    return synthesize_and_wait(request, principal, _job_of(body))


@router.post(
    "/api/v1/tts/synthesize/async", status_code=202, response_model=Envelope[dict[str, Any]], openapi_extra=SPEAK_BODY
)
def synthesize_async(body: SpeakRequest | JobCreate, request: Request, principal: CurrentUser) -> Any:
    """Queue the job; the answer is the job with `synthesis_id` (its id) and
    `estimated_duration` (seconds of speech, from the word count)."""
    job_request = _job_of(body)

    def create() -> Created:
        job = jobs.submit_job(principal.user_id, job_request).public()
        answer = {
            "synthesis_id": job.job_id,
            "estimated_duration": jobs.estimated_seconds(job),
            **job.model_dump(mode="json"),
        }
        return 202, ok(answer, "job queued")

    return run_idempotent(request, principal.user_id, job_request.model_dump(), create)


@router.get(
    "/api/v1/tts/synthesize/stream",
    response_class=Response,
    responses={200: {"content": {"audio/*": {}}}, 202: {"model": Envelope[Job], "description": "still running"}},
)
def synthesize_stream(
    request: Request,
    principal: CurrentUser,
    text: str = Query(min_length=1, max_length=MAX_TEXT_CHARS),
    voice_id: str | None = None,
    output_format: OutputFormat = "wav",
) -> Response:
    """The speech as audio bytes, once the whole file is ready (sending it as it is made is
    not offered yet); 202 with the job if it takes longer than ~20 s."""
    body = JobCreate(text_content=text, voice_model_id=voice_id, output_format=output_format)
    return synthesize_and_wait(request, principal, body, raw=True)


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
    return spoken_audio(
        principal.user_id,
        JobCreate(
            text_content=body.input,
            voice_model_id=clone.clone_id,
            output_format=OPENAI_FORMATS[body.response_format],
            speed=body.speed,
        ),
    )
