"""Time and ids in one place, so records agree on format (ISO 8601 UTC with a Z; typed ids)."""

import hashlib
import time
import uuid
from datetime import UTC, datetime


def iso(moment: datetime) -> str:
    """An aware datetime as every record, event and response writes it."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now_iso() -> str:
    return iso(datetime.now(UTC))


def epoch() -> int:
    return int(time.time())


def monotonic() -> float:
    """Seconds on a clock that never goes back: what in-process expiry is measured on, read
    through this module so that tests can move it instead of sleeping."""
    return time.monotonic()


def new_id(prefix: str) -> str:
    """Ids carry their type, so a job id can never be confused with a clone id in logs."""
    return f"{prefix}_{uuid.uuid4().hex}"


def derived_id(prefix: str, seed: str) -> str:
    """An id that the same `seed` always yields: a redelivered manifest line or event finds
    the record its first delivery made instead of making another."""
    return f"{prefix}_{hashlib.sha256(seed.encode()).hexdigest()[:32]}"
