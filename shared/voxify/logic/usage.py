"""Daily quotas: what a create costs, and refunds for creates that fail."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from voxify.errors import ErrorCode, VoxifyError
from voxify.repositories.runtime_config import RuntimeConfigRepository
from voxify.repositories.usage import UsageRepository


def take_daily_quota(user_id: str, kind: str) -> str:
    """Spend one unit of today's `kind` quota (sample, job); returns the day it counted on."""
    config = RuntimeConfigRepository().current()
    limit = int(config[f"daily_{kind}_quota"])
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    if not UsageRepository().take_quota(user_id, kind, day, limit):
        raise VoxifyError(ErrorCode.QUOTA_EXCEEDED, f"daily {kind} quota of {limit} is used up",
                          {"quota": limit, "kind": kind},
                          headers={"Retry-After": str(_seconds_to_midnight())})
    return day


T = TypeVar("T")


def with_daily_quota(user_id: str, kind: str, create: Callable[[], T]) -> T:
    """Run a create that costs one unit of today's quota; a create that fails costs nothing."""
    day = take_daily_quota(user_id, kind)
    try:
        return create()
    except Exception:
        UsageRepository().give_back_quota(user_id, kind, day)
        raise


def _seconds_to_midnight() -> int:
    now = datetime.now(UTC)
    return 86400 - (now.hour * 3600 + now.minute * 60 + now.second)
