"""Per-user limits: requests per minute, and daily quotas with refunds for failed creates."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from voxify.domain.runtime_config import QuotaKind
from voxify.errors import ErrorCode, VoxifyError
from voxify.repositories.runtime_config import RuntimeConfigRepository
from voxify.repositories.usage import UsageRepository

T = TypeVar("T")


@dataclass(frozen=True)
class RateLimitState:
    """What the X-RateLimit-* headers of a response report."""

    limit: int
    count: int
    reset_in: int

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.count)

    def enforce(self) -> None:
        """RATE_LIMITED once the window's count has passed the limit."""
        if self.count > self.limit:
            raise VoxifyError(
                ErrorCode.RATE_LIMITED,
                f"more than {self.limit} requests in a minute",
                {"limit": self.limit, "retry_after_seconds": self.reset_in},
                headers={"Retry-After": str(max(1, self.reset_in))},
            )


def count_request(user_id: str) -> RateLimitState:
    """Count a request in the caller's current one-minute window."""
    count, reset_in = UsageRepository().count_request(user_id)
    return RateLimitState(RuntimeConfigRepository().current().rate_limit_per_minute, count, reset_in)


def take_daily_quota(user_id: str, kind: QuotaKind) -> str:
    """Spend one unit of today's `kind` quota (sample, job); returns the day it counted on."""
    limit = RuntimeConfigRepository().current().daily_quota(kind)
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    if not UsageRepository().take_quota(user_id, kind, day, limit):
        raise VoxifyError(
            ErrorCode.QUOTA_EXCEEDED,
            f"daily {kind} quota of {limit} is used up",
            {"quota": limit, "kind": kind},
            headers={"Retry-After": str(_seconds_to_midnight())},
        )
    return day


def with_daily_quota(user_id: str, kind: QuotaKind, create: Callable[[], T]) -> T:
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
