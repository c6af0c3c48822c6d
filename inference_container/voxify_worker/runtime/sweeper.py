"""The recovery sweep inside each worker, as a backstop to the scheduled one
(`voxify.logic.recovery`): a worker that is up notices stranded jobs within a minute."""

from __future__ import annotations

import threading

from voxify.logic.recovery import recover
from voxify.observability import logger


class Sweeper(threading.Thread):
    def __init__(self, interval: float, stop: threading.Event) -> None:
        super().__init__(name="sweeper", daemon=True)
        self._interval, self._stop_event = interval, stop

    def run(self) -> None:
        while not self._stop_event.wait(self._interval):
            try:
                recover()
            except Exception:
                logger.exception("stale-job sweep failed")
