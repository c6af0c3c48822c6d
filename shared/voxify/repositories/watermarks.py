"""Watermark checks (pk `DETECTION#{id}`): short-lived records the worker answers.

The detector is a neural network that lives in the worker, so the API writes a pending
record, queues it, and reads the answer back. Records expire after a day.
"""

from __future__ import annotations

from voxify.domain.watermarks import DetectionRecord
from voxify.repositories.base import AnsweredOnce


class DetectionRepository(AnsweredOnce[DetectionRecord]):
    kind = "DETECTION"
    id_field = "detection_id"
    record_type = DetectionRecord
