"""The worker's heartbeat record, which the API's `voice/info` reads.

Records carry a TTL a few beats ahead so a dead worker's heartbeat ages out on AWS
(the emulator does not reap TTL, so readers also compare `last_seen` with the clock).
"""

import threading
import time
from datetime import UTC, datetime

from voxify.aws import resource
from voxify.observability import logger
from voxify.settings import get_settings

MISSED_BEATS_BEFORE_EXPIRY = 6


class Heartbeat(threading.Thread):
    def __init__(self, worker_id: str, engine: str, interval: float) -> None:
        super().__init__(name="heartbeat", daemon=True)
        self.worker_id = worker_id
        self.engine = engine
        self.interval = interval
        self.started_at = datetime.now(UTC).isoformat()
        self._stop_event = threading.Event()
        self._table = resource("dynamodb").Table(get_settings().table_name)

    def beat(self, state: str = "running") -> None:
        now = datetime.now(UTC)
        self._table.put_item(Item={
            "pk": f"WORKER#{self.worker_id}",
            "sk": "HEARTBEAT",
            "gsi2pk": "WORKERS",
            "gsi2sk": self.worker_id,
            "worker_id": self.worker_id,
            "engine": self.engine,
            "state": state,
            "started_at": self.started_at,
            "last_seen": now.isoformat(),
            "expires_at": int(time.time() + self.interval * MISSED_BEATS_BEFORE_EXPIRY),
        })

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            try:
                self.beat()
            except Exception:  # noqa: BLE001 - a missed beat must not stop the worker
                logger.exception("heartbeat write failed")

    def stop(self) -> None:
        self._stop_event.set()
        self.beat("stopped")
