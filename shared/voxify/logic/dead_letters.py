"""Work whose message died in a dead-letter queue ends with its last error; nothing waits for
ever and nobody pays for work that never happened.

One function consumes every DLQ. A dead message looks like what its source queue carries,
and its shape says what it was:
- a work message (jobs and uploads queues): the job fails RETRIES_EXHAUSTED with its last
  error, a sample or clone is rejected, a search or a voice verification fails; the job's or
  sample's daily quota unit is refunded;
- an S3 notification: of a presigned sample upload (the sample is rejected), or of a
  drop-folder manifest (an error report is written beside it);
- an EventBridge event: a "Synthesis Requested" event is answered "Synthesis Request
  Rejected"; a state change that never reached the batches or webhooks function needs no
  action here (the scheduled recovery reconciles batches; webhook deliveries are logged);
- a webhook retry: the delivery is marked failed.
A job or voice that a live worker still holds is left to it.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_plus

from pydantic import ValidationError

from voxify.domain.runtime_config import QuotaKind
from voxify.domain.verification import VerificationStatus
from voxify.domain.voices import CloneStatus, SampleStatus, SearchStatus
from voxify.errors import ErrorCode, VoxifyError
from voxify.events import EventPublisher
from voxify.logic.batches import report_unprocessable_manifest
from voxify.logic.ingest import reject_synthesis_request
from voxify.logic.jobs import fail_dead_job
from voxify.logic.webhooks import RetryRequest, abandon_delivery
from voxify.observability import logger
from voxify.queue import WorkMessage, parse_work
from voxify.repositories.searches import SearchRepository
from voxify.repositories.usage import UsageRepository
from voxify.repositories.verification import VerificationRepository
from voxify.repositories.voices import CloneRepository, SampleRepository

GAVE_UP = "its message exhausted its delivery attempts"


def settle_dead_letter(body: str) -> str:
    """End whatever the dead message asked for; a word on what was done, for the log."""
    try:
        document: Any = json.loads(body)
    except ValueError:
        return "unreadable; dropped"
    if isinstance(document, dict) and "detail-type" in document:
        return _dead_event(document)
    if isinstance(document, dict) and "retry" in document:
        abandon_delivery(RetryRequest.model_validate(document["retry"]), GAVE_UP)
        return "webhook delivery failed"
    if isinstance(document, dict) and _is_manifest_notification(document):
        for key in _notified_keys(document):
            report_unprocessable_manifest(key, f"the manifest could not be processed: {GAVE_UP}")
        return "manifest reported"
    try:
        works = parse_work(body)
    except (ValueError, ValidationError):
        return "unknown message; dropped"
    return ", ".join(_dead_work(work) for work in works) or "nothing to do"


def _dead_work(work: WorkMessage) -> str:
    if work.kind == "synthesis":
        failed = fail_dead_job(work.id)
        if failed:
            _refund(failed.user_id, "job", failed.created_at)
        return "job failed" if failed else "job left as it is"
    if work.kind == "sample":
        return _reject_sample(work.id)
    if work.kind == "clone":
        clone = CloneRepository().set_status(
            work.id,
            CloneStatus.REJECTED,
            {
                "review": {
                    "code": ErrorCode.RETRIES_EXHAUSTED.value,
                    "reason": f"the voice could not be built: {GAVE_UP}",
                }
            },
            expected_status=[CloneStatus.PROCESSING],
        )
        EventPublisher().announce(clone)
        return "clone rejected" if clone else "clone left as it is"
    if work.kind == "search":
        finished = SearchRepository().finish(
            work.id, {"status": SearchStatus.FAILED.value, "error": f"{ErrorCode.RETRIES_EXHAUSTED.value}: {GAVE_UP}"}
        )
        return "search failed" if finished else "search left as it is"
    if work.kind == "verify":
        verified = VerificationRepository().finish(
            work.id,
            {
                "status": VerificationStatus.FAILED.value,
                "error_code": ErrorCode.RETRIES_EXHAUSTED.value,
                "error": f"the recording could not be checked: {GAVE_UP}",
            },
        )
        if verified is None:
            return "verification left as it is"
        EventPublisher().verification_changed(verified)
        return "verification failed"
    return "nothing to do"  # forget: searches skip ids whose record is gone


def _reject_sample(sample_id: str) -> str:
    sample = SampleRepository().update(
        sample_id,
        {
            "status": SampleStatus.REJECTED.value,
            "rejection_reasons": [ErrorCode.RETRIES_EXHAUSTED.value, f"the sample could not be processed: {GAVE_UP}"],
        },
        expected_status=[SampleStatus.UPLOADING, SampleStatus.UPLOADED, SampleStatus.PROCESSING],
    )
    if sample is None:
        return "sample left as it is"
    _refund(sample.user_id, "sample", sample.created_at)
    EventPublisher().announce(sample)
    return "sample rejected"


def _dead_event(event: dict[str, Any]) -> str:
    if event["detail-type"] == "Synthesis Requested":
        reject_synthesis_request(event, VoxifyError(ErrorCode.RETRIES_EXHAUSTED, f"the request {GAVE_UP}"))
        return "synthesis request rejected"
    logger.warning("a state-change event was not delivered", extra={"detail_type": event["detail-type"]})
    return "state change logged"


def _is_manifest_notification(document: dict[str, Any]) -> bool:
    return any(key.startswith("dropbox/") for key in _notified_keys(document))


def _notified_keys(document: dict[str, Any]) -> list[str]:
    records = document.get("Records")
    if not isinstance(records, list):
        return []
    return [unquote_plus(str(r.get("s3", {}).get("object", {}).get("key", ""))) for r in records if isinstance(r, dict)]


def _refund(user_id: str, kind: QuotaKind, created_at: str) -> None:
    """Give back the unit of the daily quota the work was paid with (on the day it was)."""
    UsageRepository().give_back_quota(user_id, kind, created_at[:10])
