"""When to run waiting synthesis requests together: a batch is due when it is full or when
its oldest request has waited long enough.

Batching (F5TTSEngine.synthesize_many) makes a GPU worker serve more requests per second,
but a request that waits for batch-mates is a request answered later. `BatchFormer` bounds
that cost: no request waits more than `max_wait_ms` beyond its arrival for others to join
it, and a batch never exceeds `max_batch_size`. Pure logic on an injectable clock, with no
queue client: the worker loop adds what it receives, asks how long it may block on its
queue (`wait_seconds`), and takes the batches that are due (`next_batch`). `gather` is that
loop for one batch, around any `receive(timeout_seconds)` function.

Requests are kept in arrival order. An optional `key` keeps apart requests that cannot
share a batch (another engine, say); batches of different keys are handed out oldest first.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class BatchPolicy:
    """How big a batch may get, and how long a request may wait for batch-mates."""

    max_batch_size: int = 8
    max_wait_ms: float = 50.0

    def __post_init__(self) -> None:
        if self.max_batch_size < 1:
            raise ValueError(f"max_batch_size must be at least 1, got {self.max_batch_size}")
        if self.max_wait_ms < 0:
            raise ValueError(f"max_wait_ms must not be negative, got {self.max_wait_ms}")


class BatchFormer(Generic[T]):
    """Waiting requests, handed out in batches when a batch is due (see the module doc)."""

    def __init__(
        self,
        policy: BatchPolicy,
        *,
        key: Callable[[T], Hashable] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.policy = policy
        self._key = key
        self._clock = clock
        # per key, in order of first arrival: (arrival time, request), oldest first
        self._waiting: OrderedDict[Hashable, deque[tuple[float, T]]] = OrderedDict()

    def __len__(self) -> int:
        return sum(len(queue) for queue in self._waiting.values())

    def add(self, request: T) -> None:
        """A request arrived: it waits at most max_wait_ms from now."""
        key = self._key(request) if self._key is not None else None
        self._waiting.setdefault(key, deque()).append((self._clock(), request))

    def next_batch(self) -> list[T] | None:
        """The oldest due batch (full, or its oldest request waited max_wait_ms), or None."""
        now = self._clock()
        due = [
            (queue[0][0], key)
            for key, queue in self._waiting.items()
            if len(queue) >= self.policy.max_batch_size or self._deadline(queue[0][0]) <= now
        ]
        if not due:
            return None
        _, key = min(due, key=lambda entry: entry[0])
        return self._take(key)

    def wait_seconds(self) -> float | None:
        """How long the loop may block for more requests before a batch is due: 0 when one
        is due now, None when nothing waits (block as long as the queue allows)."""
        if not self._waiting:
            return None
        if any(len(queue) >= self.policy.max_batch_size for queue in self._waiting.values()):
            return 0.0
        oldest = min(queue[0][0] for queue in self._waiting.values())
        return max(0.0, self._deadline(oldest) - self._clock())

    def drain(self) -> list[list[T]]:
        """Every waiting request, in batches, due or not (a worker stopping hands them back)."""
        batches: list[list[T]] = []
        while self._waiting:
            key = min(self._waiting, key=lambda k: self._waiting[k][0][0])
            batches.append(self._take(key))
        return batches

    def _deadline(self, arrival: float) -> float:
        return arrival + self.policy.max_wait_ms / 1000.0

    def _take(self, key: Hashable) -> list[T]:
        queue = self._waiting[key]
        batch = [queue.popleft()[1] for _ in range(min(len(queue), self.policy.max_batch_size))]
        if not queue:
            del self._waiting[key]
        return batch


def gather(
    receive: Callable[[float], Sequence[T]],
    former: BatchFormer[T],
    *,
    idle_wait_seconds: float = 20.0,
) -> list[T]:
    """Receive until a batch is due, and return it; [] when nothing at all arrived within
    `idle_wait_seconds` (so the caller can check for a stop between long polls).

    `receive(timeout)` returns what arrived within `timeout` seconds, possibly nothing.
    Requests received beyond the batch stay in `former` for the next call.
    """
    while True:
        batch = former.next_batch()
        if batch is not None:
            return batch
        wait = former.wait_seconds()
        arrived = receive(idle_wait_seconds if wait is None else wait)
        for request in arrived:
            former.add(request)
        if not arrived and wait is None:
            return []
