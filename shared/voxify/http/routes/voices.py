"""/api/v1/voice: samples, clones and similar-voice searches."""

import hashlib
from collections.abc import AsyncGenerator, Callable, Coroutine
from typing import Any, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field

from voxify.domain.jobs import JobCreate
from voxify.domain.users import Scope
from voxify.domain.verification import Verification
from voxify.domain.voices import (
    CONSENT_STATEMENT,
    CONSENT_VERSION,
    NAME_PATTERN,
    Clone,
    CloneCreate,
    ConsentStatement,
    Sample,
    SampleCloneCreate,
    SampleStatus,
    SearchRecord,
    SearchStatus,
    UploadRequest,
    VoiceSearch,
)
from voxify.errors import ErrorCode, VoxifyError
from voxify.http.deps import CurrentUser, Page, require_scope
from voxify.http.envelope import Answer, Envelope, ok, paged
from voxify.http.idempotency import Created, run_idempotent
from voxify.http.synthesis import synthesize_and_wait
from voxify.logic import searches, verification, voices
from voxify.settings import get_settings

# What a clone takes to be ready (embedding and the impersonation check), seconds, roughly.
TRAIN_SECONDS = 10
# Room for the multipart boundaries and the form's text fields around an inline file.
FORM_OVERHEAD_BYTES = 64 * 1024


class _CappedRequest(Request):
    """A request whose body is refused (413) as soon as it passes `cap` bytes, so an oversized
    upload is never read whole, whether it says its length or arrives in chunks."""

    cap = 0

    async def stream(self) -> AsyncGenerator[bytes, None]:
        seen = 0
        async for chunk in super().stream():
            seen += len(chunk)
            if seen > self.cap:
                raise _too_large(self.cap)
            yield chunk


def _too_large(cap: int) -> VoxifyError:
    return VoxifyError(
        ErrorCode.PAYLOAD_TOO_LARGE,
        f"request bodies here are limited to {cap} bytes (larger samples: POST /api/v1/voice/samples/uploads)",
    )


class CappedBodyRoute(APIRoute):
    """Reads the body under the inline upload cap before FastAPI parses the form: FastAPI
    would read it all first, and turn an error raised while parsing into a plain 400."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def capped(request: Request) -> Response:
            cap = get_settings().max_inline_upload_bytes + FORM_OVERHEAD_BYTES
            length = request.headers.get("content-length", "")
            if length.isdigit() and int(length) > cap:
                raise _too_large(cap)
            capped_request = _CappedRequest(request.scope, request.receive)
            capped_request.cap = cap
            await capped_request.body()  # kept by the request for the form parser
            return await handler(capped_request)

        return capped


router = APIRouter(
    prefix="/api/v1/voice",
    tags=["voices"],
    route_class=CappedBodyRoute,
    dependencies=[Depends(require_scope(Scope.VOICES))],
)


def read_upload(file: UploadFile) -> bytes:
    """The uploaded file, read no further than one byte past the inline limit (which
    `voices.inline_audio_format` then refuses with 413)."""
    return file.file.read(get_settings().max_inline_upload_bytes + 1)


@router.post("/samples", status_code=201, response_model=Envelope[Sample])
def upload_sample(
    request: Request,
    principal: CurrentUser,
    file: UploadFile = File(description="wav, mp3, flac, ogg, m4a or webm; up to 4 MiB and 300 s of audio here"),
    name: str = Form(min_length=1, max_length=200, pattern=NAME_PATTERN),
    description: str | None = Form(default=None, max_length=2000),
    language: str = Form(default="en", min_length=2, max_length=16),
) -> Any:
    """Upload a short sample. Larger files: POST /voice/samples/uploads. A file whose header
    shows it cannot play (cut short, no frames) is refused with 400 CORRUPT_AUDIO, one holding
    more audio than allowed with 400 UNSUPPORTED_AUDIO."""
    data = read_upload(file)

    def create() -> Created:
        sample = voices.upload_sample(principal.user_id, name, description, language, data)
        return 201, ok(sample.public(), "sample stored; processing")

    fields = {"name": name, "description": description, "language": language, "size": len(data)}
    return run_idempotent(request, principal.user_id, fields, create)


@router.post("/samples/uploads", status_code=201, response_model=Envelope[dict[str, Any]])
def presigned_upload(body: UploadRequest, request: Request, principal: CurrentUser) -> Any:
    """A presigned S3 POST for files up to 50 MB; processing starts when the upload lands."""

    def create() -> Created:
        sample, upload = voices.start_presigned_upload(principal.user_id, body)
        return 201, ok({"sample": sample.public(), "upload": upload}, "POST the file to upload.url with upload.fields")

    return run_idempotent(request, principal.user_id, body.model_dump(), create)


@router.get("/samples", response_model=Envelope[list[Sample]])
def list_samples(principal: CurrentUser, page: Page, status: SampleStatus | None = None) -> Answer:
    return paged([s.public() for s in voices.list_samples(principal.user_id, status)], page)


@router.get("/samples/{sample_id}", response_model=Envelope[Sample])
def get_sample(sample_id: str, principal: CurrentUser) -> Answer:
    return ok(voices.get_sample(principal.user_id, sample_id).public())


@router.delete("/samples/{sample_id}", response_model=Envelope[None])
def delete_sample(sample_id: str, principal: CurrentUser) -> Answer:
    voices.delete_sample(principal.user_id, sample_id)
    return ok(None, "sample and its audio deleted")


@router.post("/samples/{sample_id}/process", status_code=202, response_model=Envelope[Sample])
def process_sample(sample_id: str, principal: CurrentUser) -> Answer:
    """Process the sample again; costs one unit of the daily sample quota."""
    return ok(voices.reprocess_sample(principal.user_id, sample_id).public(), "processing queued")


class TrainRequest(BaseModel):
    """001's training request. Voxify clones zero-shot: nothing is trained, a clone is made
    of the sample (the options of `config` are accepted and need nothing)."""

    config: dict[str, Any] = Field(default_factory=dict, examples=[{"epochs": 100, "enable_timestamp_alignment": True}])
    consent: bool = Field(default=False, description="the speaker consented to being cloned; must be true")
    name: str | None = Field(default=None, min_length=1, max_length=100, pattern=NAME_PATTERN)
    ref_text: str = Field(default="", max_length=1000, description="what is said in the sample, if known")


@router.post("/samples/{sample_id}/train", status_code=202, response_model=Envelope[dict[str, Any]])
def train_sample(sample_id: str, body: TrainRequest, request: Request, principal: CurrentUser) -> Answer:
    """Make a voice clone of one ready sample (needs `consent: true`); afterwards the sample's
    id works wherever a voice id does (`voice_id`, `voice_model_id`)."""
    sample = voices.get_sample(principal.user_id, sample_id)
    clone = voices.create_clone(
        principal.user_id,
        SampleCloneCreate(
            sample_ids=[sample_id],
            name=body.name or sample.name[:100],
            ref_text=body.ref_text,
            language=sample.language,
            consent=body.consent,
        ),
        consent_origin(request),
    )
    answer = {
        "training_job_id": clone.clone_id,
        "estimated_duration": TRAIN_SECONDS,
        "status": "pending",
        "features": {"timestamp_alignment_enabled": True, "voice_quality_enhancement": False},
        "clone": clone.public().model_dump(mode="json"),
    }
    return ok(answer, "voice clone being made; poll GET /api/v1/voice/clones/{training_job_id}")


def consent_origin(request: Request) -> dict[str, str | None]:
    """Where a consent attestation came from, stored with the clone."""
    return {
        "source_ip": request.client.host if request.client else None,
        "user_agent": request.headers.get("user-agent"),
    }


@router.get("/consent", response_model=Envelope[ConsentStatement])
def consent_statement() -> Answer:
    """What `consent: true` attests when a clone is made; each clone keeps the version agreed to."""
    return ok(ConsentStatement(statement=CONSENT_STATEMENT, version=CONSENT_VERSION))


@router.post("/clones", status_code=201, response_model=Envelope[Clone])
def create_clone(body: CloneCreate, request: Request, principal: CurrentUser) -> Any:
    """Needs `consent: true` and ready samples. Stores who attested consent, when and from where."""
    origin = consent_origin(request)
    return run_idempotent(
        request,
        principal.user_id,
        body.model_dump(),
        lambda: (201, ok(voices.create_clone(principal.user_id, body, origin).public(), "voice clone created")),
    )


@router.get("/clones", response_model=Envelope[list[Clone]])
def list_clones(principal: CurrentUser, page: Page) -> Answer:
    return paged([c.public() for c in voices.list_clones(principal.user_id)], page)


@router.get("/clones/{clone_id}", response_model=Envelope[Clone])
def get_clone(clone_id: str, principal: CurrentUser) -> Answer:
    return ok(voices.get_clone(principal.user_id, clone_id).public())


@router.delete("/clones/{clone_id}", response_model=Envelope[None])
def delete_clone(clone_id: str, principal: CurrentUser) -> Answer:
    voices.delete_clone(principal.user_id, clone_id)
    return ok(None, "voice clone deleted")


@router.post("/clones/{clone_id}/select", response_model=Envelope[Clone])
def select_clone(clone_id: str, principal: CurrentUser) -> Answer:
    return ok(voices.select_clone(principal.user_id, clone_id).public(), "active voice selected")


@router.post(
    "/clones/{clone_id}/synthesize",
    response_model=Envelope[dict[str, Any]],
    responses={202: {"description": "still running; poll the job"}},
)
def synthesize_with_clone(
    clone_id: str, body: JobCreate, request: Request, principal: CurrentUser, wait: Literal["true", "false"] = "true"
) -> Any:
    """Create a job with this voice; wait up to ~20 s for the audio, else 202 with the job."""
    voices.get_clone(principal.user_id, clone_id)
    job_request = body.model_copy(update={"voice_model_id": clone_id})
    return synthesize_and_wait(request, principal, job_request, wait=wait == "true")


@router.post("/clones/{clone_id}/verification", status_code=201, response_model=Envelope[Verification])
def start_verification(clone_id: str, request: Request, principal: CurrentUser) -> Any:
    """Prove the voice is yours: a random phrase to read aloud in this voice and record
    before `challenge_expires_at` (POST it to .../verification/recording). Replaces an
    earlier challenge; 409 VERIFICATION_IN_PROGRESS while a recording is being checked; the
    clone must be ready (409 VOICE_UNDER_REVIEW, 400 VOICE_NOT_READY). A retry with the same
    `Idempotency-Key` answers the same challenge (same phrase), not a new one."""

    def create() -> Created:
        challenge = verification.start_challenge(principal.user_id, clone_id)
        return 201, ok(challenge.public(), "read the phrase aloud and record it")

    return run_idempotent(request, principal.user_id, {"clone_id": clone_id}, create)


@router.post(
    "/clones/{clone_id}/verification/recording",
    status_code=202,
    response_model=Envelope[Verification],
    responses={
        409: {"description": "NO_CHALLENGE (ask for a phrase first) or VERIFICATION_IN_PROGRESS"},
        410: {"description": "CHALLENGE_EXPIRED: ask for a new phrase"},
        429: {"description": "QUOTA_EXCEEDED: the daily verification quota is used up"},
    },
)
def submit_verification(
    clone_id: str,
    request: Request,
    principal: CurrentUser,
    file: UploadFile = File(description="the phrase read aloud: wav, mp3, flac, ogg, m4a or webm, at most 30 s"),
) -> Any:
    """The recording of the open challenge; the worker checks that it says the phrase and
    that its speaker is this voice's. Poll GET .../verification until `verified` or `failed`
    (`error_code` PHRASE_MISMATCH, SPEAKER_MISMATCH or SYNTHETIC_RECORDING). Not audio:
    400 UNSUPPORTED_AUDIO, with nothing stored. Costs one unit of the daily verification
    quota (429 QUOTA_EXCEEDED when it is used up). A retry with the same `Idempotency-Key`
    (and the same file) answers the first submission, costing nothing more."""
    data = read_upload(file)

    def create() -> Created:
        submitted = verification.submit_recording(principal.user_id, clone_id, data)
        return 202, ok(submitted.public(), "recording stored; being checked")

    fields = {"clone_id": clone_id, "sha256": hashlib.sha256(data).hexdigest()}
    return run_idempotent(request, principal.user_id, fields, create)


@router.get("/clones/{clone_id}/verification", response_model=Envelope[Verification])
def get_verification(clone_id: str, principal: CurrentUser) -> Answer:
    """The voice's latest challenge and, once checked, its outcome; a passed one also sets
    the clone's `verified` and `verified_at`."""
    return ok(verification.get_verification(principal.user_id, clone_id).public())


SEARCH_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {"description": "still running; poll GET /api/v1/voice/searches/{search_id}"}
}


def _search_answer(search: SearchRecord) -> Any:
    """200 with the nearest voices, or 202 with the pending search if the worker is slow."""
    search = searches.wait_for_search(search)
    if search.status == SearchStatus.PENDING:
        return JSONResponse(
            ok(search.public(), "still searching; poll the search"),
            status_code=202,
            headers={"Location": f"/api/v1/voice/searches/{search.search_id}"},
        )
    return ok(search.public())


@router.get("/clones/{clone_id}/similar", response_model=Envelope[VoiceSearch], responses=SEARCH_RESPONSES)
def similar_voices(clone_id: str, principal: CurrentUser, k: int = Query(5, ge=1, le=50)) -> Any:
    """The k voices (clones and samples) of yours that sound most like this clone."""
    return _search_answer(searches.search_by_clone(principal.user_id, clone_id, k))


@router.post("/search", response_model=Envelope[VoiceSearch], responses=SEARCH_RESPONSES)
def search_voices(
    principal: CurrentUser,
    file: UploadFile = File(description="a clip of someone speaking, a few seconds (at most 30 s)"),
    k: int = Form(5, ge=1, le=50),
) -> Any:
    """Upload a clip; get the k voices of yours that sound most like it."""
    return _search_answer(searches.search_by_clip(principal.user_id, read_upload(file), k))


@router.get("/searches/{search_id}", response_model=Envelope[VoiceSearch])
def get_search(search_id: str, principal: CurrentUser) -> Answer:
    return ok(searches.get_search(principal.user_id, search_id).public())
