"""Voice samples and voice clones: upload rules, ownership, consent, review.

A new clone starts `processing`: the worker embeds its samples and compares the voice with
other users' clones, then makes it `ready` or holds it in `needs_review` until an admin decides.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from voxify.audio_format import AudioRefused, inspect_audio
from voxify.clock import new_id, now_iso
from voxify.domain.voices import (
    CONSENT_STATEMENT,
    CONSENT_VERSION,
    CloneCreate,
    CloneRecord,
    CloneStatus,
    ConsentAttestation,
    SampleCloneCreate,
    SampleHash,
    SampleRecord,
    SampleStatus,
    UploadRequest,
    UploadType,
)
from voxify.errors import ErrorCode, VoxifyError, found, not_found
from voxify.events import EventPublisher
from voxify.logic.usage import with_daily_quota
from voxify.observability import logger
from voxify.queue import WorkMessage, WorkQueue, enqueue_or_undo, upload_key
from voxify.repositories.users import UserRepository
from voxify.repositories.verification import VerificationRepository
from voxify.repositories.voices import CloneRepository, SampleRepository
from voxify.settings import get_settings
from voxify.storage import CONTENT_TYPES, AudioStore, clone_reference_key, sample_prefix, verification_prefix

POLL_SECONDS = 0.25
RecordT = TypeVar("RecordT")


def inline_audio_format(data: bytes, what: str, max_seconds: float) -> str:
    """The format of an audio file sent in the request body (judged by its content);
    refuses an empty, oversized or non-audio file, and one whose header already shows it
    unplayable or longer than `max_seconds` (voxify.audio_format), before anything is stored.
    `data` may be cut at the size limit plus one byte: more than that is refused anyway."""
    limit = get_settings().max_inline_upload_bytes
    if not data:
        raise VoxifyError(ErrorCode.UNSUPPORTED_AUDIO, "the file is empty")
    if len(data) > limit:
        raise VoxifyError(ErrorCode.PAYLOAD_TOO_LARGE, f"{what} are limited to {limit} bytes here")
    try:
        return inspect_audio(data, max_seconds).format
    except AudioRefused as refused:
        raise VoxifyError(refused.code, refused.message) from None


def _new_sample(
    user_id: str, name: str, description: str | None, language: str, status: SampleStatus, size: int, fmt: str | None
) -> SampleRecord:
    now = now_iso()
    sample_id = new_id("smp")
    key = f"{sample_prefix(user_id, sample_id)}original.{fmt}" if fmt else upload_key(user_id, sample_id)
    return SampleRecord(
        sample_id=sample_id,
        user_id=user_id,
        name=name,
        description=description,
        language=language,
        status=status,
        format=fmt,
        size_bytes=size,
        original_key=key,
        created_at=now,
        updated_at=now,
    )


def upload_sample(
    user_id: str,
    name: str,
    description: str | None,
    language: str,
    data: bytes,
    upload_type: UploadType = "uploaded",
) -> SampleRecord:
    """Store a small upload and queue its processing, for one unit of the daily sample
    quota; refuses what is not audio. Larger files go through a presigned upload."""
    fmt = inline_audio_format(
        data,
        "samples sent inline (larger ones: POST /api/v1/voice/samples/uploads)",
        get_settings().max_sample_seconds,
    )
    sample = _new_sample(user_id, name, description, language, SampleStatus.UPLOADED, len(data), fmt)
    return with_daily_quota(
        user_id, "sample", lambda: _store_sample(sample.model_copy(update={"upload_type": upload_type}), data)
    )


def _store_sample(sample: SampleRecord, data: bytes) -> SampleRecord:
    AudioStore().put(sample.original_key, data, CONTENT_TYPES[sample.format or "wav"])
    SampleRepository().create(sample)
    _queue_processing(sample)
    EventPublisher().sample_changed(sample)
    return sample


def start_presigned_upload(user_id: str, request: UploadRequest) -> tuple[SampleRecord, dict[str, Any]]:
    """A record in `uploading` and a presigned POST, for one unit of the daily sample quota;
    the S3 event starts processing."""
    settings = get_settings()
    if request.size_bytes > settings.max_sample_bytes:
        raise VoxifyError(ErrorCode.PAYLOAD_TOO_LARGE, f"samples are limited to {settings.max_sample_bytes} bytes")
    return with_daily_quota(user_id, "sample", lambda: _start_upload(user_id, request))


def _start_upload(user_id: str, request: UploadRequest) -> tuple[SampleRecord, dict[str, Any]]:
    sample = _new_sample(
        user_id, request.name, request.description, request.language, SampleStatus.UPLOADING, request.size_bytes, None
    )
    SampleRepository().create(sample)
    upload = AudioStore().presigned_post(sample.original_key, request.size_bytes)
    EventPublisher().sample_changed(sample)
    return sample, upload


def _queue_processing(sample: SampleRecord) -> None:
    WorkQueue().send(WorkMessage(kind="sample", id=sample.sample_id, user_id=sample.user_id))


def get_sample(user_id: str, sample_id: str) -> SampleRecord:
    return found(SampleRepository().get_owned(sample_id, user_id), "sample")


def list_samples(user_id: str, status: SampleStatus | None = None) -> list[SampleRecord]:
    return [s for s in SampleRepository().list_for(user_id) if status is None or s.status == status]


def reprocess_sample(user_id: str, sample_id: str) -> SampleRecord:
    """Process a sample again, for one unit of the daily sample quota (decoding is the
    worker's most expensive step for a user to repeat at will)."""
    sample = get_sample(user_id, sample_id)
    if sample.status == SampleStatus.UPLOADING:
        raise VoxifyError(ErrorCode.INVALID_STATE, "the upload has not arrived yet")
    return with_daily_quota(user_id, "sample", lambda: _requeue(sample))


def _requeue(sample: SampleRecord) -> SampleRecord:
    """Back to `uploaded` with its processing queued; the old status again if the queue refuses."""
    samples = SampleRepository()
    updated = samples.update(sample.sample_id, {"status": SampleStatus.UPLOADED.value}) or sample
    enqueue_or_undo(
        WorkMessage(kind="sample", id=sample.sample_id, user_id=sample.user_id),
        lambda: samples.update(sample.sample_id, {"status": sample.status.value}),
        "sample",
    )
    EventPublisher().sample_changed(updated)
    return updated


def delete_sample(user_id: str, sample_id: str) -> None:
    """Delete a sample and its audio; clones made of it keep speaking (_keep_references)."""
    get_sample(user_id, sample_id)  # 404 unless it is this user's
    _keep_references(user_id, sample_id)
    store = AudioStore()
    store.delete_prefix(sample_prefix(user_id, sample_id))
    store.delete_prefix(upload_key(user_id, sample_id))
    SampleRepository().delete(sample_id)
    _forget_embeddings(sample_id, user_id)


def _keep_references(user_id: str, sample_id: str) -> None:
    """Clones speak from reference audio kept under their first sample: each clone whose
    reference lies under this sample gets its own copy first."""
    prefix = sample_prefix(user_id, sample_id)
    clones, store = CloneRepository(), AudioStore()
    for clone in clones.list_for(user_id):
        if clone.reference_key.startswith(prefix):
            key = clone_reference_key(user_id, clone.clone_id, clone.reference_key.rsplit(".", 1)[-1])
            store.copy(clone.reference_key, key)
            clones.update(clone.clone_id, {"reference_key": key})


def _forget_embeddings(voice_id: str, user_id: str) -> None:
    """Ask the worker to drop the voice's vectors. Best effort: searches also skip ids whose
    record is gone, so a lost message only leaves an unreachable row behind."""
    try:
        WorkQueue().send(WorkMessage(kind="forget", id=voice_id, user_id=user_id))
    except Exception:
        logger.exception("could not queue the removal of embeddings", extra={"voice_id": voice_id})


def require_consent(consent: bool) -> None:
    """No voice is cloned without the speaker's consent, whichever API asks."""
    if not consent:
        raise VoxifyError(ErrorCode.CONSENT_REQUIRED, "cloning a voice needs the speaker's consent: send consent: true")


def consent_attestation(
    user_id: str, samples: list[SampleRecord], origin: dict[str, str | None], at: str
) -> dict[str, Any]:
    """The consent record a clone keeps: who attested which statement (and its version),
    when, from which client (`origin`: source_ip, user_agent), for which exact files (each
    sample's SHA-256, taken by the worker from the bytes it processed)."""
    return ConsentAttestation(
        attested_by=user_id,
        attested_at=at,
        statement=CONSENT_STATEMENT,
        statement_version=CONSENT_VERSION,
        source_ip=origin.get("source_ip"),
        user_agent=origin.get("user_agent"),
        samples=[SampleHash(sample_id=s.sample_id, sha256=s.sha256) for s in samples],
    ).model_dump()


def create_clone(user_id: str, request: CloneCreate, origin: dict[str, str | None]) -> CloneRecord:
    """A clone from the user's ready samples, with the consent attestation stored.

    It is `processing` until the worker has embedded it and run the impersonation check; if
    that work cannot be queued the clone is removed again and the caller told to retry.
    """
    require_consent(request.consent)
    samples = [get_sample(user_id, sample_id) for sample_id in dict.fromkeys(request.sample_ids)]
    not_ready = [s.sample_id for s in samples if s.status != SampleStatus.READY]
    if not_ready:
        raise VoxifyError(
            ErrorCode.SAMPLE_NOT_READY, "every sample must be processed and ready", {"sample_ids": not_ready}
        )
    now = now_iso()
    first = samples[0]
    clone = CloneRecord(
        clone_id=new_id("vox"),
        user_id=user_id,
        name=request.name,
        description=request.description,
        sample_ids=[s.sample_id for s in samples],
        ref_text=request.ref_text,
        language=request.language,
        status=CloneStatus.PROCESSING,
        reference_key=first.reference_key or first.normalized_key or first.original_key,
        consent=consent_attestation(user_id, samples, origin, now),
        created_at=now,
        updated_at=now,
    )
    clones = CloneRepository()
    clones.create(clone)
    enqueue_or_undo(
        WorkMessage(kind="clone", id=clone.clone_id, user_id=user_id), lambda: clones.delete(clone.clone_id), "clone"
    )
    EventPublisher().clone_changed(clone)
    return clone


def require_usable(clone: CloneRecord) -> None:
    """Only a ready clone speaks; one held for review says so with its own code."""
    if clone.status == CloneStatus.NEEDS_REVIEW:
        raise VoxifyError(
            ErrorCode.VOICE_UNDER_REVIEW,
            "this voice resembles another user's voice and awaits an administrator's review",
            {"voice_model_id": clone.clone_id},
        )
    if clone.status != CloneStatus.READY:
        raise VoxifyError(
            ErrorCode.VOICE_NOT_READY,
            f"voice clone {clone.clone_id} is {clone.status}",
            {"voice_model_id": clone.clone_id},
        )


def clones_in_state(status: CloneStatus) -> list[CloneRecord]:
    """Clones in one state across users, oldest first (admins' review queue)."""
    return CloneRepository().list_in_state(status)


def review_clone(clone_id: str, admin_id: str, approve: bool, note: str | None) -> CloneRecord:
    """An admin's decision on a clone held for review."""
    clones = CloneRepository()
    clone = found(clones.get(clone_id), "voice clone")
    if clone.status != CloneStatus.NEEDS_REVIEW:
        raise VoxifyError(ErrorCode.INVALID_STATE, f"the clone is {clone.status}, not needs_review")
    decision = {
        **(clone.review or {}),
        "decided_by": admin_id,
        "decided_at": now_iso(),
        "approved": approve,
        "note": note,
    }
    status = CloneStatus.READY if approve else CloneStatus.REJECTED
    updated = clones.set_status(clone_id, status, {"review": decision}, expected_status=[CloneStatus.NEEDS_REVIEW])
    if updated is None:
        raise VoxifyError(ErrorCode.CONFLICT, "the clone changed while it was being reviewed")
    EventPublisher().clone_changed(updated)
    if not approve:  # a refused voice must not be matched against, nor searched
        _forget_embeddings(clone_id, clone.user_id)
    return updated


def get_clone(user_id: str, clone_id: str) -> CloneRecord:
    return found(CloneRepository().get_owned(clone_id, user_id), "voice clone")


def list_clones(user_id: str) -> list[CloneRecord]:
    return CloneRepository().list_for(user_id)


def select_clone(user_id: str, clone_id: str) -> CloneRecord:
    clone = get_clone(user_id, clone_id)
    require_usable(clone)
    UserRepository().update(user_id, {"active_voice_id": clone_id})
    return clone


def delete_clone(user_id: str, clone_id: str) -> None:
    get_clone(user_id, clone_id)
    CloneRepository().delete(clone_id)
    VerificationRepository().delete(clone_id)
    store = AudioStore()
    store.delete_prefix(sample_prefix(user_id, clone_id))  # its own reference copy, if any
    store.delete_prefix(verification_prefix(user_id, clone_id))  # a recording not yet checked
    _forget_embeddings(clone_id, user_id)
    users = UserRepository()
    user = users.get(user_id)
    if user and user.active_voice_id == clone_id:
        users.update(user_id, {"active_voice_id": None})


def find_clone(user_id: str, id_or_name: str) -> CloneRecord:
    """A clone by id, or else by exact name (what OpenAI-style `voice` fields carry)."""
    clone = CloneRepository().get_owned(id_or_name, user_id)
    if clone:
        return clone
    for candidate in CloneRepository().list_for(user_id):
        if candidate.name == id_or_name:
            return candidate
    raise not_found("voice clone")


def voice_from_sample(
    user_id: str, request: SampleCloneCreate, origin: dict[str, str | None], timeout: float
) -> CloneRecord:
    """A usable voice from one uploaded sample in one call, for APIs that have no separate
    clone step: waits (up to `timeout` seconds in all) for the sample to be processed, reuses
    the user's clone of this sample with this name or creates one (create_clone: consent
    required), and waits for the clone's checks. A voice not ready in time answers
    VOICE_NOT_READY (or SAMPLE_NOT_READY); the same call later picks up where this one stopped."""
    deadline = time.monotonic() + timeout
    sample_id = request.sample_ids[0]
    existing = clone_of_sample(user_id, sample_id, request.name)
    if existing is None:  # refused before any wait
        require_consent(request.consent)
    samples = SampleRepository()
    sample = _await(
        get_sample(user_id, sample_id), lambda s: s.status in _SAMPLE_BUSY, lambda: samples.get(sample_id), deadline
    )
    if sample.status == SampleStatus.REJECTED:
        raise VoxifyError(
            ErrorCode.UNSUPPORTED_AUDIO,
            "the sample cannot be cloned: " + "; ".join(sample.rejection_reasons or ["it was refused"]),
            {"sample_id": sample_id, "rejection_reasons": sample.rejection_reasons},
        )
    if sample.status != SampleStatus.READY:
        raise VoxifyError(ErrorCode.SAMPLE_NOT_READY, "the sample is still being processed; try again shortly")
    made = existing or create_clone(user_id, request, origin)
    clone = _await(
        made, lambda c: c.status == CloneStatus.PROCESSING, lambda: CloneRepository().get(made.clone_id), deadline
    )
    require_usable(clone)
    return clone


def register_voice(
    user_id: str, data: bytes, filename: str, request: SampleCloneCreate, origin: dict[str, str | None], timeout: float
) -> CloneRecord:
    """Upload → usable voice in one call (the sample named after its file): consent is checked
    before anything is stored or counted."""
    require_consent(request.consent)
    sample = upload_sample(user_id, filename, request.description, request.language, data)
    return voice_from_sample(user_id, request.model_copy(update={"sample_ids": [sample.sample_id]}), origin, timeout)


def find_owned_clone(user_id: str, clone_id: str | None) -> CloneRecord | None:
    """The user's clone, or None when it is not named, gone or someone else's."""
    return CloneRepository().get_owned(clone_id, user_id) if clone_id else None


def first_sample(clone: CloneRecord) -> SampleRecord | None:
    """The sample a clone speaks from, unless it has been deleted since."""
    return SampleRepository().get_owned(clone.sample_ids[0], clone.user_id)


_SAMPLE_BUSY = (SampleStatus.UPLOADING, SampleStatus.UPLOADED, SampleStatus.PROCESSING)


def clone_of_sample(user_id: str, sample_id: str, name: str | None = None) -> CloneRecord | None:
    """The user's newest clone made of exactly this sample (under this name, if one is
    given), unless it was refused: what a sample id names where a voice is expected."""
    for clone in CloneRepository().list_for(user_id):
        if clone.sample_ids == [sample_id] and name in (None, clone.name) and clone.status != CloneStatus.REJECTED:
            return clone
    return None


def _await(
    record: RecordT, busy: Callable[[RecordT], bool], reload: Callable[[], RecordT | None], deadline: float
) -> RecordT:
    """`record` read again until it is no longer `busy` or the deadline passes."""
    while busy(record) and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
        record = reload() or record
    return record
