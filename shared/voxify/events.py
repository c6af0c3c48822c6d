"""State-change events on the EventBridge bus (`source: voxify`).

`detail` carries ids, states and output locations, never audio. Each detail-type has a
JSON Schema in `event_schemas/` (`schema_version` in every detail names its version).

Job state changes are announced from the data table's stream (voxify.logic.job_events and
docs/events.md): the stream holds each change of a job's item once, in order, whatever wrote
it, so a writer that dies after its write loses nothing and a request never waits for the bus.
The other records' changes are published by their writer, right after its conditional write
succeeds: a state change is such a write succeeding, and one succeeds once per change (a
duplicate or late delivery fails its condition and publishes nothing). A refused entry is
sent again; a failed publish is logged; a writer killed between its write and its publish
loses that one event. Batch progress depends on none of them (see logic/batches.py and the
scheduled recovery).
"""

from __future__ import annotations

import json
import time
from typing import Any

from voxify.aws import client
from voxify.clock import now_iso
from voxify.domain.batches import BatchRecord
from voxify.domain.jobs import JobRecord
from voxify.domain.verification import VerificationRecord
from voxify.domain.voices import CloneRecord, SampleRecord
from voxify.observability import logger
from voxify.settings import get_settings

SOURCE = "voxify"
REFUSED_ENTRY_BACKOFF_SECONDS = (0.05, 0.1, 0.2, 0.4, 0.8)
EVENT_SCHEMA_VERSION = "1"


class EventNotAccepted(RuntimeError):
    """The bus kept refusing an event through every resend."""


class EventPublisher:
    def __init__(self) -> None:
        self._bus = get_settings().event_bus_name
        self._events = client("events")

    def deliver(self, detail_type: str, detail: dict[str, Any], occurred_at: str | None = None) -> None:
        """Put one event on the bus. An entry the bus refuses (throttled, an internal failure:
        a 200 answer that the SDK's own retries never see) is sent again a few times, backing
        off; raises EventNotAccepted if it still is, and the SDK's errors as they come."""
        entry = {
            "Source": SOURCE,
            "DetailType": detail_type,
            "EventBusName": self._bus,
            "Detail": json.dumps(
                {"schema_version": EVENT_SCHEMA_VERSION, "occurred_at": occurred_at or now_iso(), **detail},
                default=str,
            ),
        }
        for backoff in (*REFUSED_ENTRY_BACKOFF_SECONDS, None):
            response = self._events.put_events(Entries=[entry])
            if not response.get("FailedEntryCount"):
                return
            if backoff is not None:
                time.sleep(backoff)
        raise EventNotAccepted(f"{detail_type} not accepted: {response['Entries']}")

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        """Best effort: a failed publish is logged and never fails the state change itself."""
        try:
            self.deliver(detail_type, detail)
        except EventNotAccepted as refused:
            logger.warning("event not accepted", extra={"detail_type": detail_type, "reason": str(refused)})
        except Exception:
            logger.exception("event publish failed", extra={"detail_type": detail_type})

    def announce(self, record: SampleRecord | CloneRecord | BatchRecord | None) -> None:
        """The state-change event for a record a conditional write just returned; nothing
        when the write found its condition false (None: someone else made the change)."""
        if isinstance(record, SampleRecord):
            self.sample_changed(record)
        elif isinstance(record, CloneRecord):
            self.clone_changed(record)
        elif isinstance(record, BatchRecord):
            self.batch_changed(record)

    def job_changed(self, job: JobRecord) -> None:
        """Announce the state a job's item now holds, as of its last update; raises when the
        bus does not take it, so that the table's stream hands the change over again."""
        self.deliver(
            "Job State Change",
            {
                "job_id": job.job_id,
                "user_id": job.user_id,
                "status": job.status.value,
                "source": job.source,
                "batch_id": job.batch_id,
                "correlation_id": job.correlation_id,
                "output_key": job.output_key,
                "duration_seconds": job.duration_seconds,
                "error_code": job.error_code,
            },
            occurred_at=job.updated_at,
        )

    def sample_changed(self, sample: SampleRecord) -> None:
        self.publish(
            "Voice Sample State Change",
            {
                "sample_id": sample.sample_id,
                "user_id": sample.user_id,
                "status": sample.status.value,
                "rejection_reasons": sample.rejection_reasons,
                "quality_score": sample.quality.score if sample.quality else None,
            },
        )

    def clone_changed(self, clone: CloneRecord) -> None:
        self.publish(
            "Voice Clone State Change",
            {
                "clone_id": clone.clone_id,
                "user_id": clone.user_id,
                "status": clone.status.value,
                "review_code": (clone.review or {}).get("code"),
            },
        )

    def batch_changed(self, batch: BatchRecord) -> None:
        self.publish(
            "Batch State Change",
            {
                "batch_id": batch.batch_id,
                "user_id": batch.user_id,
                "status": batch.status.value,
                "manifest_key": batch.manifest_key,
                "counts": batch.counts().model_dump(),
                "report_key": batch.report_key,
            },
        )

    def verification_changed(self, verification: VerificationRecord) -> None:
        """A verification answered (verified or failed): published by whoever answered it."""
        self.publish(
            "Voice Verification State Change",
            {
                "clone_id": verification.clone_id,
                "user_id": verification.user_id,
                "status": verification.status.value,
                "verified": verification.status.value == "verified",
                "error_code": verification.error_code,
                "checked_at": verification.checked_at,
            },
        )
