"""Reference voices for the engines, decoded once per clone and kept in memory."""

from __future__ import annotations

from voxify.cache import LruCache
from voxify.errors import ErrorCode, not_found
from voxify.repositories.voices import CloneRepository
from voxify.storage import AudioStore
from voxify_worker.audio import decode
from voxify_worker.engines.base import EngineError, ReferenceVoice

CACHE_SIZE = 32


class ReferenceCache:
    def __init__(self, store: AudioStore, clones: CloneRepository) -> None:
        self._store = store
        self._clones = clones
        self._cache: LruCache[str, ReferenceVoice] = LruCache(CACHE_SIZE)

    def get(self, clone_id: str, user_id: str) -> ReferenceVoice:
        return self._cache.get_or_load(clone_id, lambda: self._load(clone_id, user_id))

    def forget(self, clone_id: str) -> None:
        """Drop a deleted clone's decoded reference: no copy of a deleted voice is kept."""
        self._cache.discard(clone_id)

    def _load(self, clone_id: str, user_id: str) -> ReferenceVoice:
        clone = self._clones.get_owned(clone_id, user_id)
        if clone is None:
            raise EngineError(ErrorCode.VOICE_NOT_FOUND, str(not_found(f"voice clone {clone_id}")))
        samples, rate = decode(self._store.get(clone.reference_key))
        return ReferenceVoice(
            voice_id=clone_id, audio=samples, sample_rate=rate, transcript=clone.ref_text, language=clone.language
        )
