"""The worker's heartbeat record, which the API's `voice/info` reads.

Records carry a TTL a few beats ahead so a dead worker's heartbeat ages out on AWS
(the emulator does not reap TTL, so readers also compare `last_seen` with the clock).
The record's keys and fields are HeartbeatRepository's (voxify/repositories/heartbeats.py).
"""

import threading
from datetime import UTC, datetime

from voxify.domain.workers import WorkerState
from voxify.observability import logger
from voxify.repositories.heartbeats import HeartbeatRepository

MISSED_BEATS_BEFORE_EXPIRY = 6


class Heartbeat(threading.Thread):
    def __init__(self, worker_id: str, engine: str, interval: float) -> None:
        super().__init__(name="heartbeat", daemon=True)
        self.worker_id = worker_id
        self.engine = engine
        self.interval = interval
        self.started_at = datetime.now(UTC)
        self._stop_event = threading.Event()
        self._heartbeats = HeartbeatRepository()

    def beat(self, state: WorkerState = WorkerState.RUNNING) -> None:
        self._heartbeats.beat(
            self.worker_id, self.engine, state, self.started_at, expires_in=self.interval * MISSED_BEATS_BEFORE_EXPIRY
        )

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            try:
                self.beat()
            except Exception:
                logger.exception("heartbeat write failed")

    def stop(self) -> None:
        self._stop_event.set()
        self.beat(WorkerState.STOPPED)
