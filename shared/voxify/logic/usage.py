"""Per-user limits: requests per minute, and daily quotas with refunds for failed creates.

Where a request is counted against the per-minute limit depends on what it costs:
- a read (GET, HEAD) is counted in this process only, so that reading a record stays one
  AWS call; a caller spread over many processes can read more than the limit, which API
  Gateway's own throttling bounds;
- a job create counts itself inside the transaction that writes the job (`create_steps`);
- any other write is counted in the shared rate-limit table (`count_request`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from voxify.clock import epoch
from voxify.domain.runtime_config import QuotaKind
from voxify.errors import ErrorCode, VoxifyError
from voxify.repositories.base import WriteStep
from voxify.repositories.runtime_config import RuntimeConfigRepository
from voxify.repositories.usage import RATE_WINDOW_SECONDS, UsageRepository, window_start

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


class _ReadCounts:
    """Requests per user in the current fixed window, in this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._window = 0
        self._counts: dict[str, int] = {}

    def count(self, user_id: str, window: int) -> int:
        with self._lock:
            if window != self._window:
                self._window, self._counts = window, {}
            self._counts[user_id] = self._counts.get(user_id, 0) + 1
            return self._counts[user_id]


_reads = _ReadCounts()


def _limit() -> int:
    return RuntimeConfigRepository().current().rate_limit_per_minute


def count_request(user_id: str) -> RateLimitState:
    """Count a write in the caller's current one-minute window, shared by every process."""
    count, reset_in = UsageRepository().count_request(user_id)
    return RateLimitState(_limit(), count, reset_in)


def count_read(user_id: str) -> RateLimitState:
    """Count a read in the caller's current one-minute window, in this process only."""
    now = epoch()
    return RateLimitState(_limit(), _reads.count(user_id, window_start(now)), _reset_in(now))


def _reset_in(now: int) -> int:
    """Seconds until the fixed window holding `now` ends."""
    return window_start(now) + RATE_WINDOW_SECONDS - now


def _today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


def _quota_exceeded(kind: QuotaKind, limit: int) -> VoxifyError:
    return VoxifyError(
        ErrorCode.QUOTA_EXCEEDED,
        f"daily {kind} quota of {limit} is used up",
        {"quota": limit, "kind": kind},
        headers={"Retry-After": str(_seconds_to_midnight())},
    )


def take_daily_quota(user_id: str, kind: QuotaKind) -> str:
    """Spend one unit of today's `kind` quota (sample, job); returns the day it counted on."""
    limit = RuntimeConfigRepository().current().daily_quota(kind)
    day = _today()
    if not UsageRepository().take_quota(user_id, kind, day, limit):
        raise _quota_exceeded(kind, limit)
    return day


def give_back_quota(user_id: str, kind: QuotaKind, day: str, units: int = 1) -> None:
    """Refund units taken on `day` for creates that did not happen after all."""
    UsageRepository().give_back_quota(user_id, kind, day, units)


def with_daily_quota(user_id: str, kind: QuotaKind, create: Callable[[], T]) -> T:
    """Run a create that costs one unit of today's quota; a create that fails costs nothing."""
    day = take_daily_quota(user_id, kind)
    try:
        return create()
    except Exception:
        give_back_quota(user_id, kind, day)
        raise


@dataclass(frozen=True)
class UsageSteps:
    """A create's usage as steps of its own transaction: today's quota unit and, for a
    request that counts itself, the per-minute count."""

    day: str
    steps: list[WriteStep]


def create_steps(user_id: str, kind: QuotaKind, *, count_request: bool, units: int = 1) -> UsageSteps:
    """`units` creates at once (a bulk create) spend that many units in the one step."""
    config = RuntimeConfigRepository().current()
    usage = UsageRepository()
    day = _today()
    steps = [usage.quota_step(user_id, kind, day, config.daily_quota(kind), units)]
    if count_request:
        steps.append(usage.rate_step(user_id, config.rate_limit_per_minute))
    return UsageSteps(day, steps)


def raise_refusal(step: str, kind: QuotaKind) -> None:
    """Raise the error of a usage step of `create_steps` that refused; return for any other."""
    config = RuntimeConfigRepository().current()
    if step == "quota":
        raise _quota_exceeded(kind, config.daily_quota(kind))
    if step == "rate":
        limit = config.rate_limit_per_minute
        RateLimitState(limit, limit + 1, _reset_in(epoch())).enforce()


def _seconds_to_midnight() -> int:
    now = datetime.now(UTC)
    return 86400 - (now.hour * 3600 + now.minute * 60 + now.second)
