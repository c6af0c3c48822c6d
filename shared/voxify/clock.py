"""Time in one place, so records agree on format (ISO 8601 UTC with a Z)."""

import time
import uuid
from datetime import UTC, datetime


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def epoch() -> int:
    return int(time.time())


def new_id(prefix: str) -> str:
    """Ids carry their type, so a job id can never be confused with a clone id in logs."""
    return f"{prefix}_{uuid.uuid4().hex}"
