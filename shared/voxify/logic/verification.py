"""Verified voices: a clone's owner proves the voice is theirs by reading a random phrase.

The API issues a challenge (one phrase from `PHRASES`, open for
`verification_challenge_seconds`), takes the recording, and queues it; the worker
(voxify_worker/work/verification.py) recognises what was said and embeds who said it, since
speech recognition and the speaker encoder are far beyond a Lambda package. The clone shows
`verified: true` once a recording says the phrase in the clone's voice; the client polls the
verification meanwhile. Every refusal here happens before anything is stored.

Each recording sent costs one unit of the daily `verification` quota (it is the worker's
work: recognition, a speaker embedding and a watermark check); a recording refused before it
is queued costs nothing. Asking for a phrase is free. Both creates honour `Idempotency-Key`
in the routes (http/routes/voices.py): a retry answers the first challenge or submission.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from voxify.clock import iso, now_iso
from voxify.domain.runtime_config import QuotaKind
from voxify.domain.verification import VerificationRecord, VerificationStatus
from voxify.errors import ErrorCode, VoxifyError, found
from voxify.logic.usage import with_daily_quota
from voxify.logic.voices import get_clone, inline_audio_format, require_usable
from voxify.queue import WorkMessage, enqueue_or_undo
from voxify.repositories.verification import VerificationRepository
from voxify.settings import get_settings
from voxify.storage import CONTENT_TYPES, AudioStore, verification_recording_key

VERIFICATION_QUOTA: QuotaKind = "verification"

# Plain English of common words, all in the recogniser's dictionary, ten to thirteen words
# each and unlike one another: a recording of one phrase cannot pass for another, and a
# recording made in advance is unlikely to hold the phrase that is asked for.
PHRASES = (
    "The quiet river runs past the old stone mill every morning.",
    "Please bring the green umbrella when you come to visit us.",
    "My neighbor painted her front door a bright shade of blue.",
    "We watched the storm roll in over the hills after dinner.",
    "A cup of warm tea is the best way to start the day.",
    "The children found seven smooth pebbles along the sandy beach.",
    "Our train leaves the station at half past four this afternoon.",
    "He planted tomatoes and beans in the garden behind the house.",
    "The library closes early on Sunday, so plan your visit well.",
    "Fresh bread from the corner bakery smells wonderful in the morning.",
    "She wrote a long letter to her brother who lives abroad.",
    "The old clock on the wall stopped at exactly midnight.",
    "Bright yellow leaves covered the path through the quiet park.",
    "I would like a window seat on the flight to the coast.",
    "The farmer counted his sheep twice before closing the gate.",
    "Every summer we drive north to swim in the cold lake.",
    "The music from the street below kept me awake all night.",
    "Remember to water the plants and feed the cat on Friday.",
    "The baker sold out of apple pies before noon again today.",
    "A small boat drifted slowly across the calm gray harbor.",
)


def choose_phrase() -> str:
    """A phrase drawn at random with a secure generator, so the next one cannot be guessed."""
    return secrets.choice(PHRASES)


def start_challenge(user_id: str, clone_id: str) -> VerificationRecord:
    """A new challenge for one of the user's usable clones, replacing any earlier one that is
    not being checked."""
    require_usable(get_clone(user_id, clone_id))
    now = datetime.now(UTC)
    record = VerificationRecord(
        clone_id=clone_id,
        user_id=user_id,
        status=VerificationStatus.CHALLENGED,
        phrase=choose_phrase(),
        challenge_expires_at=iso(now + timedelta(seconds=get_settings().verification_challenge_seconds)),
        created_at=iso(now),
    )
    if not VerificationRepository().challenge(record):
        raise _in_progress()
    return record


def submit_recording(user_id: str, clone_id: str, data: bytes) -> VerificationRecord:
    """Store the recording of the open challenge and queue its check, for one unit of the
    daily verification quota. Refused, with nothing stored or spent: no open challenge, an
    expired one, one already being checked, or a file that is not audio (or longer than
    `max_verification_clip_seconds`); 429 QUOTA_EXCEEDED once the day's quota is used."""
    get_clone(user_id, clone_id)  # 404 unless it is this user's
    verifications = VerificationRepository()
    _require_open(verifications.get_owned(clone_id, user_id))
    fmt = inline_audio_format(data, "verification recordings", get_settings().max_verification_clip_seconds)
    return with_daily_quota(user_id, VERIFICATION_QUOTA, lambda: _submit(user_id, clone_id, data, fmt))


def _submit(user_id: str, clone_id: str, data: bytes, fmt: str) -> VerificationRecord:
    """Store the recording, mark the challenge pending and queue its check; undo both if the
    queue refuses (and raise, so the quota unit is given back)."""
    verifications = VerificationRepository()
    key = verification_recording_key(user_id, clone_id, fmt)
    store = AudioStore()
    store.put(key, data, CONTENT_TYPES[fmt])
    submitted = verifications.submit(clone_id, key)
    if submitted is None:  # answered, replaced or expired since it was read
        store.delete_prefix(key)
        _require_open(verifications.get_owned(clone_id, user_id))
        raise _in_progress()

    def undo() -> None:
        verifications.reopen(clone_id)
        store.delete_prefix(key)

    enqueue_or_undo(WorkMessage(kind="verify", id=clone_id, user_id=user_id), undo, "verification")
    return submitted


def _require_open(record: VerificationRecord | None) -> None:
    """Refuse unless `record` is a challenge awaiting its recording, in time."""
    if record is None or record.status in (VerificationStatus.VERIFIED, VerificationStatus.FAILED):
        raise VoxifyError(
            ErrorCode.NO_CHALLENGE, "no challenge is open for this voice: POST .../verification for a phrase first"
        )
    if record.status == VerificationStatus.PENDING:
        raise _in_progress()
    if record.challenge_expires_at <= now_iso():
        raise VoxifyError(
            ErrorCode.CHALLENGE_EXPIRED,
            "the challenge expired: ask for a new phrase",
            {"challenge_expires_at": record.challenge_expires_at},
        )


def _in_progress() -> VoxifyError:
    return VoxifyError(
        ErrorCode.VERIFICATION_IN_PROGRESS, "a recording of this voice is being checked; poll the verification"
    )


def get_verification(user_id: str, clone_id: str) -> VerificationRecord:
    get_clone(user_id, clone_id)
    return found(VerificationRepository().get_owned(clone_id, user_id), "verification")
