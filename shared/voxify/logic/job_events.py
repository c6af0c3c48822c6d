"""Job state changes announced from the data table's stream (see docs/events.md).

The stream holds every write of a job's item exactly once, in the order of the writes, with
the item before and after. A change of `status` (or a new job) is a state change and is
announced with the state the write left; progress reports and lease renewals change no
state and announce nothing. So each change is announced once per delivery of the stream,
whoever wrote it and whether or not that writer lived on after its write.
"""

from __future__ import annotations

from collections.abc import Iterable

from voxify.events import EventPublisher
from voxify.observability import logger
from voxify.repositories.jobs import StreamedJob


def announce_job_changes(changes: Iterable[StreamedJob]) -> str | None:
    """Announce the state changes in stream order. Stops at the first the bus does not take
    and returns its sequence number (None when all went out): the stream hands that record
    and those after it over again, so none is skipped, none is reordered, and none already
    sent is sent twice."""
    publisher = EventPublisher()
    for change in changes:
        job = change.new
        if job is None or (change.old is not None and change.old.status == job.status):
            continue  # deleted, or updated within its state
        try:
            publisher.job_changed(job)
        except Exception:
            logger.exception("job state change not announced; the stream retries", extra={"job_id": job.job_id})
            return change.sequence_number
    return None
