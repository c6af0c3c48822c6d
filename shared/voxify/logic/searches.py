"""Similar-voice searches: by one of the user's clones, or by an uploaded clip.

The worker holds the speaker encoder and the vector index (LanceDB and pyarrow are far
beyond a Lambda package), so a search is a small unit of voice work: a pending record, a
queue message, and an answer the API waits for briefly. Clips are stored only until the
worker has embedded them.
"""

from __future__ import annotations

from voxify.clock import new_id, now_iso
from voxify.domain.runtime_config import QuotaKind
from voxify.domain.voices import SearchRecord, SearchStatus
from voxify.errors import found
from voxify.logic.usage import with_daily_quota
from voxify.logic.voices import get_clone, inline_audio_format
from voxify.queue import WorkMessage, enqueue_or_undo
from voxify.repositories.searches import SearchRepository
from voxify.settings import get_settings
from voxify.storage import CONTENT_TYPES, AudioStore, search_clip_key

# Searches spend the daily sample quota until runtime_config has a "search" kind of its own.
SEARCH_QUOTA: QuotaKind = "search"


def search_by_clone(user_id: str, clone_id: str, k: int) -> SearchRecord:
    """A search by one of the user's clones, for one unit of the daily quota."""
    get_clone(user_id, clone_id)  # 404 unless it is this user's
    return with_daily_quota(user_id, SEARCH_QUOTA, lambda: _start(user_id, f"clone:{clone_id}", k, clip_key=None))


def search_by_clip(user_id: str, data: bytes, k: int) -> SearchRecord:
    """A search by an uploaded clip (at most `max_search_clip_seconds` of audio), for one
    unit of the daily quota; refuses what is not audio before anything is spent or stored."""
    fmt = inline_audio_format(data, "search clips", get_settings().max_search_clip_seconds)
    return with_daily_quota(user_id, SEARCH_QUOTA, lambda: _start_with_clip(user_id, data, k, fmt))


def _start_with_clip(user_id: str, data: bytes, k: int, fmt: str) -> SearchRecord:
    search_id = new_id("srch")
    key = search_clip_key(user_id, search_id, fmt)
    AudioStore().put(key, data, CONTENT_TYPES[fmt])
    return _start(user_id, "clip", k, clip_key=key, search_id=search_id)


def _start(user_id: str, source: str, k: int, clip_key: str | None, search_id: str | None = None) -> SearchRecord:
    """Write the pending search and queue it; undo both if the queue refuses."""
    search = SearchRecord(
        search_id=search_id or new_id("srch"),
        user_id=user_id,
        status=SearchStatus.PENDING,
        source=source,
        k=k,
        clip_key=clip_key,
        created_at=now_iso(),
    )
    searches = SearchRepository()
    searches.create(search)

    def undo() -> None:
        searches.delete(search.search_id)
        if clip_key:
            AudioStore().delete_prefix(clip_key)

    enqueue_or_undo(WorkMessage(kind="search", id=search.search_id, user_id=user_id), undo, "search")
    return search


def get_search(user_id: str, search_id: str) -> SearchRecord:
    return found(SearchRepository().get_owned(search_id, user_id), "search")


def wait_for_search(search: SearchRecord, timeout: float | None = None) -> SearchRecord:
    """The search once answered, or as it is after `timeout` (default: the configured wait)."""
    return SearchRepository().answered(search, get_settings().search_wait_seconds if timeout is None else timeout)
