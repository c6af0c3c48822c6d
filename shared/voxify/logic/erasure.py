"""Deleting an account and everything it owns (DELETE /api/v1/auth/account).

Order matters: the worker is asked to drop the account's voices from the voice index first
(if the queue refuses, nothing has been deleted yet and the caller may retry); then every
version of every object under the account's prefixes goes, then every table item that holds
its data (repositories/erasure.py). An account whose job a worker is making is refused, so
no output lands after its prefixes were emptied. Access tokens stop working with the profile.
"""

from __future__ import annotations

from voxify.domain.jobs import JobStatus
from voxify.errors import ErrorCode, VoxifyError
from voxify.logic.auth import Principal, profile
from voxify.observability import logger
from voxify.queue import WorkMessage, WorkQueue
from voxify.repositories.erasure import user_tables
from voxify.repositories.jobs import JobRepository
from voxify.repositories.users import forget_recent_principals
from voxify.repositories.voices import CloneRepository, SampleRepository
from voxify.storage import AudioStore, user_prefixes


def delete_account(principal: Principal, confirm: str) -> None:
    """Erase the caller's account once `confirm` repeats its e-mail address; only a session
    (not an API key) may."""
    user_id = principal.user_id
    if principal.via != "token":
        raise VoxifyError(ErrorCode.FORBIDDEN, "an API key cannot delete its account; use a session (log in)")
    if confirm.strip().lower() != profile(user_id).email:
        raise VoxifyError(ErrorCode.VALIDATION_ERROR, "confirm with the account's e-mail address", {"field": "confirm"})
    busy = [job.job_id for job in JobRepository().list_for(user_id) if job.status == JobStatus.PROCESSING]
    if busy:
        raise VoxifyError(ErrorCode.JOB_PROCESSING, "a worker is making your jobs; cancel them first", {"jobs": busy})
    _forget_voices(user_id)
    store = AudioStore()
    objects = sum(store.delete_prefix(prefix) for prefix in user_prefixes(user_id))
    items = 0
    for table in user_tables().values():
        keys = table.keys(user_id)
        table.delete(keys)
        items += len(keys)
    forget_recent_principals()  # the account's user and key records, kept for authenticating
    logger.info("account erased", extra={"erased_user_id": user_id, "objects": objects, "items": items})


def _forget_voices(user_id: str) -> None:
    """The worker drops each sample's and clone's embeddings (work/forget.py)."""
    queue = WorkQueue()
    voices = [s.sample_id for s in SampleRepository().list_for(user_id)]
    voices += [c.clone_id for c in CloneRepository().list_for(user_id)]
    for voice_id in voices:
        queue.send(WorkMessage(kind="forget", id=voice_id, user_id=user_id))
