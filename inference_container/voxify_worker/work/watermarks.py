"""`check_watermark`: whether an uploaded file carries Voxify's watermark.

The file is decoded as any untrusted upload is (a memory-capped child process) and deleted
once the answer is recorded; a file that does not decode is answered with its error code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from voxify.domain.watermarks import DetectionStatus
from voxify.observability import logger
from voxify.queue import WorkMessage
from voxify.repositories.watermarks import DetectionRepository
from voxify.settings import get_settings
from voxify.storage import AudioStore
from voxify_worker.audio import AudioError, decode_isolated
from voxify_worker.audio.watermark import Watermarker
from voxify_worker.runtime.consumer import Delivery


@dataclass
class WatermarkContext:
    detections: DetectionRepository
    store: AudioStore
    watermarker: Watermarker


def check_watermark(work: WorkMessage, delivery: Delivery, ctx: WatermarkContext) -> None:
    logger.thread_safe_append_keys(detection_id=work.id)
    detection = ctx.detections.get(work.id)
    if detection is None or detection.status != DetectionStatus.PENDING:
        return
    answer: dict[str, Any]
    try:
        audio, rate = decode_isolated(ctx.store.get(detection.clip_key), get_settings().max_detection_clip_seconds)
    except AudioError as error:
        answer = {"status": DetectionStatus.FAILED.value, "error_code": error.code.value, "error": str(error)}
    else:
        found = ctx.watermarker.detect(audio, rate)
        answer = {
            "status": DetectionStatus.COMPLETED.value,
            "marked": found.marked,
            "confidence": found.confidence,
            "duration_seconds": round(len(audio) / rate, 3),
            **ctx.watermarker.watermark.model_dump(),
        }
    ctx.detections.finish(work.id, answer)
    ctx.store.delete_prefix(detection.clip_key)
