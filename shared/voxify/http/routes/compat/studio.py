"""The Loqui voice-clone studio API of specification 004, under `/api/...`: accounts with
user names (`/api/auth`), samples, generations (one step from a sample to audio) and the
library of both.

Bare bodies, `{"samples"|"generations"|"items": [...], "total": n}` lists with `skip` and
`limit`, `{"detail": ...}` errors. Ids are Voxify's (strings), not integers. Deviations
(consent, password rules, file paths): docs/compatibility.md.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, File, Form, Header, Query, Request, Response, UploadFile
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field

from voxify.domain.email import EmailAddress
from voxify.domain.jobs import MAX_TEXT_CHARS, JobCreate, JobRecord
from voxify.domain.users import Scope, UserRecord
from voxify.domain.voices import NAME_PATTERN, SampleCloneCreate, SampleRecord, UploadType
from voxify.errors import ErrorCode
from voxify.http.compat import CONSENT_HEADER, Face, consent_given, consent_message, detail_shape, origin_of
from voxify.http.deps import AccountUser, CurrentUser, client_ip, require_scope
from voxify.http.downloads import DOWNLOAD, audio_download
from voxify.http.routes.voices import read_upload
from voxify.logic import auth, jobs, library, voices
from voxify.logic.library import ItemType, LibraryEntry
from voxify.settings import get_settings

FACE = Face(
    tag="Loqui studio API (spec 004)",
    shape=detail_shape,
    messages={
        ErrorCode.CONSENT_REQUIRED: consent_message('"consent": true in the body'),
        ErrorCode.INVALID_CREDENTIALS: "Incorrect username or password",
        ErrorCode.EMAIL_TAKEN: "Email already registered",
        ErrorCode.USERNAME_TAKEN: "Username already registered",
    },
    statuses={409: 400, 422: 400},
)
accounts = FACE.router(prefix="/api/auth")
samples = FACE.router(prefix="/api/samples", dependencies=[Depends(require_scope(Scope.VOICES))])
generations = FACE.router(prefix="/api/generation", dependencies=[Depends(require_scope(Scope.JOBS))])
shelf = FACE.router(prefix="/api/library", dependencies=[Depends(require_scope(Scope.LIBRARY))])
Skip = Annotated[int, Query(ge=0)]
Limit = Annotated[int, Query(ge=1, le=1000)]

# ---- accounts


class Register(BaseModel):
    username: str = Field(min_length=3, max_length=50, pattern=r"^[A-Za-z0-9_.-]+$", examples=["test"])
    email: EmailAddress
    password: str = Field(min_length=1, max_length=256)
    full_name: str | None = Field(default=None, min_length=1, max_length=200)


class Account(BaseModel):
    user_id: str
    username: str | None
    email: str
    full_name: str | None
    created_at: str
    is_active: bool


def _account(user: UserRecord) -> Account:
    return Account(
        user_id=user.user_id,
        username=user.username,
        email=user.email,
        full_name=f"{user.first_name} {user.last_name}".strip() or None,
        created_at=user.created_at,
        is_active=not user.disabled,
    )


@accounts.post("/register", status_code=201, response_model=Account)
def register(body: Register, request: Request) -> Account:
    auth.throttle("register", client_ip(request), body.email)
    first, _, last = (body.full_name or body.username).partition(" ")
    return _account(auth.register(body.email, body.password, first, last, username=body.username))


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"


@accounts.post("/login", response_model=Token)
def login(form: Annotated[OAuth2PasswordRequestForm, Depends()], request: Request) -> Token:
    """Form fields `username` (the user name, or the e-mail address) and `password`."""
    auth.throttle("login", client_ip(request), form.username)
    return Token(access_token=auth.login(form.username, form.password).access_token)


@accounts.get("/me", response_model=Account)
def me(principal: AccountUser) -> Account:
    return _account(auth.profile(principal.user_id))


# ---- samples


class StudioSample(BaseModel):
    sample_id: str
    user_id: str
    sample_name: str
    file_name: str
    file_path: str = Field(description="where to download the file (no server paths are shown)")
    file_size: int | None
    duration_seconds: float | None
    upload_type: UploadType
    uploaded_at: str
    status: str


def _sample(sample: SampleRecord) -> StudioSample:
    return StudioSample(
        sample_id=sample.sample_id,
        user_id=sample.user_id,
        sample_name=sample.name,
        file_name=f"{sample.sample_id}.{sample.format or 'wav'}",
        file_path=f"/api/library/download/sample/{sample.sample_id}",
        file_size=sample.size_bytes,
        duration_seconds=sample.duration_seconds,
        upload_type=sample.upload_type,
        uploaded_at=sample.created_at,
        status=sample.status,
    )


@samples.post("/upload", status_code=201, response_model=StudioSample)
def upload_sample(
    principal: CurrentUser,
    file: UploadFile = File(description="an audio file; up to 4 MiB here"),
    sample_name: str = Form(min_length=1, max_length=200, pattern=NAME_PATTERN),
    upload_type: UploadType = Form("uploaded"),
) -> StudioSample:
    data = read_upload(file)
    return _sample(voices.upload_sample(principal.user_id, sample_name, None, "en", data, upload_type))


class SampleList(BaseModel):
    samples: list[StudioSample]
    total: int


@samples.get("/", response_model=SampleList)
def list_samples(principal: CurrentUser, skip: Skip = 0, limit: Limit = 100) -> SampleList:
    found = voices.list_samples(principal.user_id)
    return SampleList(samples=[_sample(s) for s in found[skip : skip + limit]], total=len(found))


@samples.get("/{sample_id}", response_model=StudioSample)
def get_sample(sample_id: str, principal: CurrentUser) -> StudioSample:
    return _sample(voices.get_sample(principal.user_id, sample_id))


@samples.delete("/{sample_id}", status_code=204, response_class=Response)
def delete_sample(sample_id: str, principal: CurrentUser) -> Response:
    voices.delete_sample(principal.user_id, sample_id)
    return Response(status_code=204)


# ---- generations


class GenerationCreate(BaseModel):
    sample_id: str = Field(min_length=1, max_length=100)
    model_name: str = Field(min_length=1, max_length=100, pattern=NAME_PATTERN)
    script_text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    consent: bool | None = Field(default=None, description="the speaker consented to being cloned")
    ref_text: str = Field(default="", max_length=1000, description="what is said in the sample, if known")


class Generation(BaseModel):
    audio_id: str
    user_id: str
    sample_id: str | None
    model_name: str | None
    script_text: str
    output_file_path: str | None
    status: str
    generated_at: str
    completed_at: str | None


def _generation(job: JobRecord) -> Generation:
    clone = voices.find_owned_clone(job.user_id, job.voice_model_id)
    done = job.output_key is not None
    return Generation(
        audio_id=job.job_id,
        user_id=job.user_id,
        sample_id=clone.sample_ids[0] if clone else None,
        model_name=clone.name if clone else None,
        script_text=job.text,
        output_file_path=f"/api/library/download/generated/{job.job_id}" if done else None,
        status=job.status.value,
        generated_at=job.created_at,
        completed_at=job.finished_at,
    )


@generations.post("/create", status_code=201, response_model=Generation)
def create_generation(
    body: GenerationCreate,
    request: Request,
    principal: CurrentUser,
    consent_header: Annotated[bool | None, Header(alias=CONSENT_HEADER)] = None,
) -> Generation:
    """Clone the sample's voice (first time only: needs consent) and queue the script in it."""
    sample = voices.get_sample(principal.user_id, body.sample_id)
    clone = voices.voice_from_sample(
        principal.user_id,
        SampleCloneCreate(
            sample_ids=[sample.sample_id],
            name=body.model_name,
            ref_text=body.ref_text,
            language=sample.language,
            consent=consent_given(body.consent, consent_header),
        ),
        origin_of(request, FACE),
        get_settings().sync_wait_seconds,
    )
    job = jobs.submit_job(
        principal.user_id,
        JobCreate(text_content=body.script_text, voice_model_id=clone.clone_id),
    )
    return _generation(job)


class GenerationStatus(BaseModel):
    audio_id: str
    status: str
    progress: int
    message: str | None


@generations.get("/status/{audio_id}", response_model=GenerationStatus)
def generation_status(audio_id: str, principal: CurrentUser) -> GenerationStatus:
    job = jobs.get_job(principal.user_id, audio_id)
    return GenerationStatus(audio_id=audio_id, status=job.status, progress=job.progress, message=job.progress_message)


class GenerationList(BaseModel):
    generations: list[Generation]
    total: int


@generations.get("/", response_model=GenerationList)
def list_generations(principal: CurrentUser, skip: Skip = 0, limit: Limit = 100) -> GenerationList:
    found = jobs.list_jobs(principal.user_id)
    return GenerationList(generations=[_generation(j) for j in found[skip : skip + limit]], total=len(found))


@generations.get("/{audio_id}", response_model=Generation)
def get_generation(audio_id: str, principal: CurrentUser) -> Generation:
    return _generation(jobs.get_job(principal.user_id, audio_id))


@generations.delete("/{audio_id}", status_code=204, response_class=Response)
def delete_generation(audio_id: str, principal: CurrentUser) -> Response:
    jobs.delete_job(principal.user_id, audio_id)
    return Response(status_code=204)


# ---- library

StudioItemType = Literal["sample", "generated"]
ITEM_TYPES: dict[StudioItemType, ItemType] = {"sample": "sample", "generated": "audio"}


class LibraryItem(BaseModel):
    id: str
    item_type: StudioItemType
    name: str
    file_path: str
    file_size: int | None
    duration_seconds: float | None
    created_at: str
    status: str


class LibraryPage(BaseModel):
    items: list[LibraryItem]
    total: int
    samples_count: int
    generated_count: int


def _item(entry: LibraryEntry) -> LibraryItem:
    kind: StudioItemType = "sample" if entry.type == "sample" else "generated"
    return LibraryItem(
        id=entry.id,
        item_type=kind,
        name=entry.name,
        file_path=f"/api/library/download/{kind}/{entry.id}",
        file_size=entry.size_bytes,
        duration_seconds=entry.duration_seconds,
        created_at=entry.created_at,
        status=entry.status,
    )


def _library(user_id: str, kind: StudioItemType | None, skip: int, limit: int) -> LibraryPage:
    found, counts = library.search(user_id, ITEM_TYPES[kind] if kind else None, None)
    return LibraryPage(
        items=[_item(e) for e in found[skip : skip + limit]],
        total=len(found),
        samples_count=counts["sample"],
        generated_count=counts["audio"],
    )


@shelf.get("/all", response_model=LibraryPage)
def all_items(principal: CurrentUser, skip: Skip = 0, limit: Limit = 100) -> LibraryPage:
    return _library(principal.user_id, None, skip, limit)


@shelf.get("/samples", response_model=LibraryPage)
def sample_items(principal: CurrentUser, skip: Skip = 0, limit: Limit = 100) -> LibraryPage:
    return _library(principal.user_id, "sample", skip, limit)


@shelf.get("/generated", response_model=LibraryPage)
def generated_items(principal: CurrentUser, skip: Skip = 0, limit: Limit = 100) -> LibraryPage:
    return _library(principal.user_id, "generated", skip, limit)


@shelf.get("/download/{item_type}/{item_id}", response_class=Response, responses=DOWNLOAD)
def download(item_type: StudioItemType, item_id: str, principal: CurrentUser) -> Response:
    return audio_download(library.audio_file(principal.user_id, ITEM_TYPES[item_type], item_id))


class Deleted(BaseModel):
    message: str = "Item deleted successfully"


@shelf.delete("/{item_type}/{item_id}", response_model=Deleted)
def delete_item(item_type: StudioItemType, item_id: str, principal: CurrentUser) -> Deleted:
    library.delete(principal.user_id, ITEM_TYPES[item_type], item_id)
    return Deleted()


ROUTERS = [accounts, samples, generations, shelf]
