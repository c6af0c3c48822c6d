"""/api/v1/tts and the OpenAI-compatible /v1/audio/speech."""

from collections.abc import Mapping
from typing import Any, Literal, cast, get_args

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field, model_validator

from voxify.domain.jobs import MAX_TEXT_CHARS, JobConfig, JobCreate, OutputFormat, rate_problem
from voxify.domain.users import Scope
from voxify.errors import ErrorCode, VoxifyError
from voxify.http.audio_stream import MEDIA_TYPES, StreamFormat, audio_stream, job_format, sse_stream
from voxify.http.deps import CurrentUser, require_scope
from voxify.http.envelope import Envelope, ok
from voxify.http.idempotency import Created, run_idempotent
from voxify.http.synthesis import spoken_audio, submit_idempotently, synthesize_and_wait
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


def stream_framing(requested: StreamFormat | None, output_format: str, sample_rate: int) -> StreamFormat:
    """How a stream is framed: as `requested`, else as the output format; ValueError (a 400
    in a body's validation) when that cannot stream or not at `sample_rate`."""
    fmt = requested or output_format
    if fmt not in get_args(StreamFormat):
        raise ValueError(f"{fmt} cannot be streamed; choose one of {', '.join(get_args(StreamFormat))}")
    framing = cast(StreamFormat, fmt)
    problem = rate_problem(job_format(framing), sample_rate)
    if problem:
        raise ValueError(problem)
    return framing


class StreamSpeakRequest(SpeakRequest):
    """The synthesis body, streamed: `stream_format` picks how the audio is framed (by
    default the config's output format; `pcm` is raw 16-bit mono PCM at the config's rate)."""

    stream_format: StreamFormat | None = None

    @property
    def framing(self) -> StreamFormat:
        return stream_framing(self.stream_format, self.config.output_format, self.config.sample_rate)

    @model_validator(mode="after")
    def streamable(self) -> "StreamSpeakRequest":
        stream_framing(self.stream_format, self.config.output_format, self.config.sample_rate)
        return self

    def job(self) -> JobCreate:
        return streaming_job(super().job(), self.framing)


class StreamJobRequest(JobCreate):
    """The job body (`text_content` or `blocks`, with every option), streamed: the studio's
    script editor plays a script of blocks as it renders."""

    stream_format: StreamFormat | None = None

    @property
    def framing(self) -> StreamFormat:
        return stream_framing(self.stream_format, self.output_format, self.sample_rate)

    @model_validator(mode="after")
    def streamable(self) -> "StreamJobRequest":
        stream_framing(self.stream_format, self.output_format, self.sample_rate)
        return self

    def job(self) -> JobCreate:
        return streaming_job(JobCreate.model_validate(self.model_dump(exclude={"stream_format"})), self.framing)


def streaming_job(job: JobCreate, fmt: StreamFormat) -> JobCreate:
    """`job`, made as a stream framed as `fmt`."""
    return job.model_copy(
        update={"output_format": job_format(fmt), "config": job.config.model_copy(update={"stream": True})}
    )


STREAM_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {media: {} for media in MEDIA_TYPES.values()}, "description": "chunked audio"}
}


@router.post("/api/v1/tts/synthesize/stream", response_class=StreamingResponse, responses=STREAM_RESPONSES)
def synthesize_stream(
    body: StreamSpeakRequest | StreamJobRequest, request: Request, principal: CurrentUser
) -> StreamingResponse:
    """The speech as chunked audio, sentence by sentence while the rest is still being made;
    the job is cancelled if the client disconnects first. `X-Job-Id` names the job, whose
    whole file is kept as for any job. The job body (`text_content` or `blocks`) is taken too."""
    return audio_stream(submit_idempotently(request, principal, body.job()), body.framing)


@router.get("/api/v1/tts/synthesize/stream", response_class=StreamingResponse, responses=STREAM_RESPONSES)
def synthesize_stream_query(
    request: Request,
    principal: CurrentUser,
    text: str = Query(min_length=1, max_length=MAX_TEXT_CHARS),
    voice_id: str | None = None,
    output_format: StreamFormat = "wav",
) -> StreamingResponse:
    """The POST route's stream for a query string (a link an `<audio>` element can play)."""
    body = streaming_job(JobCreate(text_content=text, voice_model_id=voice_id), output_format)
    return audio_stream(submit_idempotently(request, principal, body), output_format)


class SpeechRequest(BaseModel):
    """OpenAI's audio.speech request; `voice` is a clone id or a clone name."""

    model: str = Field(default="voxify", examples=["tts-1"])
    input: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    voice: str = Field(min_length=1, max_length=200)
    response_format: Literal["mp3", "opus", "flac", "wav", "aac", "pcm"] = "mp3"
    speed: float = Field(default=1.0, ge=0.5, le=2.0)
    stream_format: Literal["audio", "sse"] | None = Field(
        default=None, description="stream as chunked audio or as speech.audio.delta events; unset, the whole file"
    )


OPENAI_FORMATS: dict[str, OutputFormat] = {"mp3": "mp3", "opus": "ogg", "flac": "flac", "wav": "wav"}
OPENAI_STREAM_FORMATS: dict[str, StreamFormat] = {"mp3": "mp3", "opus": "ogg", "wav": "wav", "pcm": "pcm"}


@router.post(
    "/v1/audio/speech",
    response_class=Response,
    tags=["openai compatible"],
    responses={200: {"content": {"audio/mpeg": {}, "audio/wav": {}, "audio/flac": {}, "audio/ogg": {}}}},
)
def openai_speech(body: SpeechRequest, principal: CurrentUser) -> Response:
    """OpenAI-compatible speech: existing OpenAI clients can speak with cloned voices;
    with `stream_format` the audio streams as it is made (`pcm`: 24 kHz 16-bit, as OpenAI's)."""
    formats: Mapping[str, str] = OPENAI_STREAM_FORMATS if body.stream_format else OPENAI_FORMATS
    if body.response_format not in formats:
        raise VoxifyError(
            ErrorCode.VALIDATION_ERROR,
            f"response_format {body.response_format} is not offered",
            {"supported": sorted(formats)},
        )
    clone = voices.find_clone(principal.user_id, body.voice)
    job = JobCreate(text_content=body.input, voice_model_id=clone.clone_id, speed=body.speed)
    if body.stream_format is None:
        whole = job.model_copy(update={"output_format": OPENAI_FORMATS[body.response_format]})
        return spoken_audio(principal.user_id, whole)
    fmt = OPENAI_STREAM_FORMATS[body.response_format]
    created = jobs.submit_job(principal.user_id, streaming_job(job, fmt))
    return sse_stream(created) if body.stream_format == "sse" else audio_stream(created, fmt)
