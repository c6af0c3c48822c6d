"""Watermarks: whether outputs are marked, and checks of uploaded files for the mark.

The detector is a neural network (PyTorch) that runs in the worker, far beyond a Lambda
package, so a check is a small unit of voice work, as a similar-voice search is: a pending
record, a queue message, and an answer the API waits for briefly. Files are stored only until
the worker has checked them.
"""

from __future__ import annotations

from voxify.clock import new_id, now_iso
from voxify.domain.runtime_config import QuotaKind
from voxify.domain.watermarks import DetectionRecord, DetectionStatus
from voxify.errors import ErrorCode, VoxifyError, found
from voxify.logic.usage import with_daily_quota
from voxify.logic.voices import inline_audio_format
from voxify.queue import WorkMessage, enqueue_or_undo
from voxify.repositories.runtime_config import RuntimeConfigRepository
from voxify.repositories.watermarks import DetectionRepository
from voxify.settings import get_settings
from voxify.storage import CONTENT_TYPES, AudioStore, detection_clip_key

DETECTION_QUOTA: QuotaKind = "detection"


def outputs_marked() -> bool:
    """Whether new outputs carry the watermark: always, unless an administrator turned it off."""
    return RuntimeConfigRepository().current().watermark_outputs


def start_detection(user_id: str, data: bytes) -> DetectionRecord:
    """A check of an uploaded file (at most `max_detection_clip_seconds` of audio) for one
    unit of the daily quota; refuses what is not audio before anything is spent or stored."""
    fmt = inline_audio_format(data, "watermark checks", get_settings().max_detection_clip_seconds)
    return with_daily_quota(user_id, DETECTION_QUOTA, lambda: _start(user_id, data, fmt))


def _start(user_id: str, data: bytes, fmt: str) -> DetectionRecord:
    """Store the file, write the pending check and queue it; undo all three if the queue refuses."""
    detection_id = new_id("wmk")
    key = detection_clip_key(user_id, detection_id, fmt)
    store, detections = AudioStore(), DetectionRepository()
    store.put(key, data, CONTENT_TYPES[fmt])
    detection = DetectionRecord(
        detection_id=detection_id,
        user_id=user_id,
        status=DetectionStatus.PENDING,
        clip_key=key,
        created_at=now_iso(),
    )
    detections.create(detection)

    def undo() -> None:
        detections.delete(detection_id)
        store.delete_prefix(key)

    enqueue_or_undo(WorkMessage(kind="watermark", id=detection_id, user_id=user_id), undo, "watermark check")
    return detection


def get_detection(user_id: str, detection_id: str) -> DetectionRecord:
    return found(DetectionRepository().get_owned(detection_id, user_id), "watermark check")


def check_file(user_id: str, data: bytes) -> DetectionRecord:
    """Start a check and wait up to `detection_wait_seconds` for it: the answer, or the check
    still pending. A file the worker cannot decode is refused with its error code."""
    detection = DetectionRepository().answered(start_detection(user_id, data), get_settings().detection_wait_seconds)
    if detection.status == DetectionStatus.FAILED:
        raise VoxifyError(ErrorCode(detection.error_code or ErrorCode.CORRUPT_AUDIO), detection.error or "unreadable")
    return detection
