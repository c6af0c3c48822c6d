"""Keeps a long job's SQS message invisible and its claim alive while it runs.

Without this, a job longer than the queue's visibility timeout would be delivered to a
second worker; and a worker that dies stops renewing, so its claim expires and another
worker may take the job over.
"""

from __future__ import annotations

import threading

from voxify.observability import logger
from voxify.repositories.jobs import JobRepository
from voxify.settings import get_settings
from voxify_worker.runtime.consumer import Delivery


class Lease(threading.Thread):
    def __init__(self, delivery: Delivery, jobs: JobRepository, job_id: str, owner: str) -> None:
        super().__init__(name=f"lease-{job_id}", daemon=True)
        self._delivery = delivery
        self._jobs, self._job_id, self._owner = jobs, job_id, owner
        self._done = threading.Event()

    def run(self) -> None:
        lease = get_settings().worker_lease_seconds
        while not self._done.wait(lease / 4):
            try:
                self._delivery.extend(lease)
                self._jobs.renew(self._job_id, self._owner, lease)
            except Exception:
                logger.exception("lease renewal failed", extra={"job_id": self._job_id})

    def __enter__(self) -> Lease:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()
