"""The voice-cloning API of specification 002: `POST /voices` (upload → voice in one step),
`GET /voices/{voice_id}`, `POST /voices/{voice_id}/synthesize` (raw audio).

Bare bodies and `{"detail": ...}` errors, as that document's FastAPI service answers. Its
`/health` is the app's own. Deviations (authentication, consent, limits): docs/compatibility.md.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, File, Form, Header, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field

from voxify.domain.jobs import MAX_TEXT_CHARS, JobCreate, OutputFormat
from voxify.domain.users import Scope
from voxify.domain.voices import SampleCloneCreate
from voxify.errors import ErrorCode
from voxify.http.compat import CONSENT_HEADER, Face, consent_given, consent_message, detail_shape, origin_of
from voxify.http.deps import CurrentUser, require_scope
from voxify.http.routes.voices import read_upload
from voxify.http.synthesis import spoken_audio
from voxify.logic import voices
from voxify.settings import get_settings

FACE = Face(
    tag="voice cloning API (spec 002)",
    shape=detail_shape,
    messages={ErrorCode.CONSENT_REQUIRED: consent_message("the form field consent=true")},
    statuses={409: 400, 422: 500},  # the document answers 400 for what cannot be done, 500 for a failed synthesis
)
router = FACE.router(dependencies=[Depends(require_scope(Scope.VOICES))])


class VoiceRegistered(BaseModel):
    voice_id: str
    filename: str
    duration: float | None
    sample_rate: int | None
    message: str = "Voice registered successfully"


class VoiceMetadata(BaseModel):
    voice_id: str
    filename: str | None
    created_at: str
    duration: float | None
    sample_rate: int | None
    name: str
    description: str | None


class SynthesizeRequest(BaseModel):
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS, examples=["Hello, this is a test"])
    format: OutputFormat = "wav"
    sample_rate: int = Field(default=22_050, ge=8_000, le=48_000)


def _metadata(user_id: str, voice_id: str) -> VoiceMetadata:
    clone = voices.get_clone(user_id, voice_id)
    sample = voices.first_sample(clone)
    return VoiceMetadata(
        voice_id=clone.clone_id,
        filename=sample.name if sample else None,
        created_at=clone.created_at,
        duration=sample.duration_seconds if sample else None,
        sample_rate=sample.quality.sample_rate if sample and sample.quality else None,
        name=clone.name,
        description=clone.description,
    )


@router.post("/voices", status_code=201, response_model=VoiceRegistered)
def register_voice(
    request: Request,
    principal: CurrentUser,
    file: UploadFile = File(description="wav, mp3, m4a, ogg, webm or flac; up to 4 MiB here"),
    name: str | None = Form(default=None, min_length=1, max_length=100),
    description: str | None = Form(default=None, max_length=2000),
    consent: bool | None = Form(default=None, description="the speaker consented to being cloned"),
    transcript: str | None = Form(default=None, max_length=1000, description="what is said in the file"),
    language: str = Form(default="en", min_length=2, max_length=16),
    consent_header: Annotated[bool | None, Header(alias=CONSENT_HEADER)] = None,
) -> VoiceRegistered:
    """Register a voice from one file: stored, measured and cloned before the answer (within
    about 20 s). Needs the speaker's consent (`consent=true` or `X-Voice-Consent: true`)."""
    filename = (file.filename or "upload")[:200]
    clone = voices.register_voice(
        principal.user_id,
        read_upload(file),
        filename,
        SampleCloneCreate(
            name=name or filename[:100],
            description=description,
            ref_text=transcript or "",
            language=language,
            consent=consent_given(consent, consent_header),
        ),
        origin_of(request, FACE),
        get_settings().sync_wait_seconds,
    )
    shown = _metadata(principal.user_id, clone.clone_id)
    return VoiceRegistered(
        voice_id=shown.voice_id, filename=filename, duration=shown.duration, sample_rate=shown.sample_rate
    )


@router.get("/voices/{voice_id}", response_model=VoiceMetadata)
def get_voice(voice_id: str, principal: CurrentUser) -> VoiceMetadata:
    return _metadata(principal.user_id, voice_id)


AUDIO: dict[int | str, dict[str, Any]] = {200: {"content": {"audio/wav": {}, "audio/mpeg": {}}}}


@router.post(
    "/voices/{voice_id}/synthesize",
    response_class=Response,
    responses=AUDIO,
    dependencies=[Depends(require_scope(Scope.JOBS))],
)
def synthesize(voice_id: str, body: SynthesizeRequest, principal: CurrentUser) -> Response:
    """The speech as raw audio bytes (`audio/wav`, `audio/mpeg`, ...)."""
    return spoken_audio(
        principal.user_id,
        JobCreate(
            text_content=body.text, voice_model_id=voice_id, output_format=body.format, sample_rate=body.sample_rate
        ),
    )
