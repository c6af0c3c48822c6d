"""Admin-editable limits and defaults, stored in the data table and cached briefly."""

from __future__ import annotations

import time
from typing import Any

from voxify.repositories.base import TableRepository, strip_keys
from voxify.settings import get_settings

CACHE_SECONDS = 10.0
_cache: tuple[float, dict[str, Any]] | None = None


def defaults() -> dict[str, Any]:
    settings = get_settings()
    return {"rate_limit_per_minute": settings.rate_limit_per_minute,
            "daily_sample_quota": settings.daily_sample_quota,
            "daily_job_quota": settings.daily_job_quota,
            "default_engine": settings.default_engine}


class RuntimeConfigRepository(TableRepository):
    def current(self) -> dict[str, Any]:
        """Stored values over the environment's defaults; re-read at most every 10 s."""
        global _cache
        if _cache and time.monotonic() - _cache[0] < CACHE_SECONDS:
            return _cache[1]
        stored = self._get("CONFIG", "RUNTIME") or {}
        config = {**defaults(), **{k: v for k, v in strip_keys(stored).items() if k in defaults()}}
        _cache = (time.monotonic(), config)
        return config

    def update(self, changes: dict[str, Any]) -> dict[str, Any]:
        global _cache
        merged = {**self.current(), **changes}
        self._put({"pk": "CONFIG", "sk": "RUNTIME", **merged})
        _cache = None
        return self.current()
