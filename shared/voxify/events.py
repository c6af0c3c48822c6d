"""State-change events on the EventBridge bus (`source: voxify`).

`detail` carries ids, states and output locations, never audio.
"""

from __future__ import annotations

import json
from typing import Any

from voxify.aws import client
from voxify.clock import now_iso
from voxify.observability import logger
from voxify.settings import get_settings

SOURCE = "voxify"
EVENT_SCHEMA_VERSION = "1"


class EventPublisher:
    def __init__(self) -> None:
        self._bus = get_settings().event_bus_name
        self._events = client("events")

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        """Best effort: a failed publish is logged and never fails the state change itself."""
        entry = {"Source": SOURCE, "DetailType": detail_type, "EventBusName": self._bus,
                 "Detail": json.dumps({"schema_version": EVENT_SCHEMA_VERSION,
                                       "occurred_at": now_iso(), **detail}, default=str)}
        try:
            response = self._events.put_events(Entries=[entry])
            if response.get("FailedEntryCount"):
                logger.warning("event not accepted", extra={"detail_type": detail_type,
                                                            "entries": response["Entries"]})
        except Exception:  # noqa: BLE001 - events must not fail the write they describe
            logger.exception("event publish failed", extra={"detail_type": detail_type})

    def job_changed(self, job: dict[str, Any]) -> None:
        self.publish("Job State Change", {
            "job_id": job["job_id"], "user_id": job["user_id"], "status": job["status"],
            "batch_id": job.get("batch_id"), "output_key": job.get("output_key"),
            "error_code": job.get("error_code"),
        })
