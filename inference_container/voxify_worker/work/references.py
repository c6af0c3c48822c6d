"""Reference voices for the engines, decoded once per clone and kept in memory."""

from __future__ import annotations

from collections import OrderedDict
from threading import Lock

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
        self._cache: OrderedDict[str, ReferenceVoice] = OrderedDict()
        self._lock = Lock()

    def get(self, clone_id: str, user_id: str) -> ReferenceVoice:
        with self._lock:
            if clone_id in self._cache:
                self._cache.move_to_end(clone_id)
                return self._cache[clone_id]
        clone = self._clones.get_owned(clone_id, user_id)
        if clone is None:
            raise EngineError(ErrorCode.VOICE_NOT_FOUND, str(not_found(f"voice clone {clone_id}")))
        samples, rate = decode(self._store.get(clone.reference_key))
        reference = ReferenceVoice(
            voice_id=clone_id, audio=samples, sample_rate=rate, transcript=clone.ref_text, language=clone.language
        )
        with self._lock:
            self._cache[clone_id] = reference
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return reference
