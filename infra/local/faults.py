"""Faults the embedded emulator can inject for resilience runs: AWS throttles under load, and
the pipeline must lose neither work nor events when it does.

`throttle_event_publishing(rate)` makes EventBridge refuse each PutEvents entry with that
probability, as the real service does per entry (`ErrorCode: ThrottlingException` in a 200
answer, which SDK retries do not cover).
"""

from __future__ import annotations

import random
from typing import Any

from moto.events.models import EventsBackend

THROTTLED = {"ErrorCode": "ThrottlingException", "ErrorMessage": "Rate exceeded"}


def throttle_event_publishing(rate: float, seed: int | None = None) -> None:
    """From now on, refuse each published entry with probability `rate` (0 turns it off)."""
    original = getattr(EventsBackend.put_events, "unthrottled", EventsBackend.put_events)
    if rate <= 0:
        EventsBackend.put_events = original  # type: ignore[method-assign]
        return
    chance = random.Random(seed)

    def put_events(backend: EventsBackend, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if len(events) > 10:
            return original(backend, events)  # the service's own validation error
        return [dict(THROTTLED) if chance.random() < rate else original(backend, [event])[0] for event in events]

    put_events.unthrottled = original  # type: ignore[attr-defined]
    EventsBackend.put_events = put_events  # type: ignore[method-assign]
