"""Scale-in protection: autoscaling never stops a task that holds work.

The service scales in by lowering its desired count, and ECS picks which tasks to stop; a
task mid-synthesis would lose its work (and its message would wait out the lease). While any
consumer thread of this worker holds a message, the task asks the ECS agent
(`$ECS_AGENT_URI/task-protection/v1/state`) to protect it, and drops the protection when the
last one finishes. Outside ECS (the local stack) there is no agent and nothing to do.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

from voxify.observability import logger

PROTECTION_MINUTES = 60  # renewed by the next piece of work once half of it has passed
AGENT_TIMEOUT_SECONDS = 2.0


class ScaleInProtection:
    """Counts the work in hand across consumer threads; protected while the count is above 0."""

    def __init__(self, agent_uri: str | None, minutes: int = PROTECTION_MINUTES) -> None:
        self._url = f"{agent_uri.rstrip('/')}/task-protection/v1/state" if agent_uri else None
        self._minutes = minutes
        self._in_hand = 0
        self._protected_at: float | None = None
        self._lock = threading.Lock()

    @contextmanager
    def held(self) -> Iterator[None]:
        """Protect the task while the block runs (and while other threads' blocks run)."""
        with self._lock:
            self._in_hand += 1
            if self._needs_renewal():
                self._protected_at = time.monotonic() if self._set(True) else None
        try:
            yield
        finally:
            with self._lock:
                self._in_hand -= 1
                if self._in_hand == 0 and self._protected_at is not None:
                    self._set(False)
                    self._protected_at = None

    def _needs_renewal(self) -> bool:
        if self._url is None:
            return False
        return self._protected_at is None or time.monotonic() - self._protected_at > self._minutes * 30

    def _set(self, enabled: bool) -> bool:
        """Ask the agent; a failure is logged, never raised: the work matters more than the
        protection, and a task that cannot protect itself is only as safe as before."""
        assert self._url is not None
        state: dict[str, bool | int] = {"ProtectionEnabled": enabled}
        if enabled:
            state["ExpiresInMinutes"] = self._minutes
        request = urllib.request.Request(
            self._url, data=json.dumps(state).encode(), method="PUT", headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=AGENT_TIMEOUT_SECONDS):
                return True
        except OSError as error:
            logger.warning("task scale-in protection not changed", extra={"enabled": enabled, "error": str(error)})
            return False
