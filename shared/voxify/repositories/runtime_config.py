"""Admin-editable limits and defaults, stored in the data table and cached briefly."""

from __future__ import annotations

from voxify.cache import LruCache
from voxify.domain.runtime_config import RuntimeConfig
from voxify.repositories.base import Fields, TableRepository
from voxify.settings import get_settings

CACHE_SECONDS = 10.0
_cache: LruCache[str, RuntimeConfig] = LruCache(max_entries=1, ttl_seconds=CACHE_SECONDS)


def defaults() -> RuntimeConfig:
    settings = get_settings()
    return RuntimeConfig(
        rate_limit_per_minute=settings.rate_limit_per_minute,
        daily_sample_quota=settings.daily_sample_quota,
        daily_search_quota=settings.daily_search_quota,
        daily_job_quota=settings.daily_job_quota,
        daily_detection_quota=settings.daily_detection_quota,
        daily_verification_quota=settings.daily_verification_quota,
        default_engine=settings.default_engine,
    )


def forget_cached_config() -> None:
    """The next read goes to the table (tests that change the stored values call this)."""
    _cache.clear()


class RuntimeConfigRepository(TableRepository):
    def current(self) -> RuntimeConfig:
        """Stored values over the environment's defaults; re-read at most every 10 s."""
        return _cache.get_or_load("current", self._load)

    def _load(self) -> RuntimeConfig:
        stored = self._get("CONFIG", "RUNTIME") or {}
        return defaults().model_copy(update={k: v for k, v in stored.items() if k in RuntimeConfig.model_fields})

    def update(self, changes: Fields) -> RuntimeConfig:
        merged = self.current().model_copy(update=changes)
        self._put({"pk": "CONFIG", "sk": "RUNTIME", **merged.model_dump(mode="json")})
        forget_cached_config()
        return self.current()
