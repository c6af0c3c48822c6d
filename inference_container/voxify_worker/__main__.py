"""`python -m voxify_worker`: the worker process of the local stack and the container.

Loads the engine once, then consumes the jobs and uploads queues with
VOXIFY_WORKER_CONCURRENCY consumer threads per queue. SIGTERM/SIGINT stop it taking work; work in
hand is finished, messages not started are handed back.
"""

import os
import signal
import socket
import threading
import uuid
from typing import Any

from voxify.aws import client
from voxify.domain.workers import WorkerState
from voxify.observability import logger
from voxify.settings import get_settings
from voxify_worker.engines.registry import chosen_engine_name, load_engine
from voxify_worker.runtime.batch_former import BatchPolicy
from voxify_worker.runtime.consumer import BatchHandler, WorkConsumer, WorkHandler
from voxify_worker.runtime.heartbeat import Heartbeat
from voxify_worker.runtime.protection import ScaleInProtection
from voxify_worker.runtime.sweeper import Sweeper
from voxify_worker.runtime.wiring import Wiring, wire

SWEEP_INTERVAL_SECONDS = 60.0
# Each consumer holds the next message while it works on one, and finishes a job (its files
# and completion) on a background lane while the next one's engine runs (runtime/consumer.py).
PREFETCH_MESSAGES = 1
OVERLAP_FINISHING = True


def build_consumers(
    sqs: Any,
    queues: list[str],
    handlers: dict[str, WorkHandler],
    per_queue: int,
    wait_seconds: int,
    lease_seconds: int = 120,
    protection: ScaleInProtection | None = None,
    prefetch: int = PREFETCH_MESSAGES,
    overlap: bool = OVERLAP_FINISHING,
    batch_handlers: dict[str, BatchHandler] | None = None,
    batched_queue: str | None = None,
) -> list[WorkConsumer]:
    """`per_queue` long-pollers for each queue. One poller cycling through both queues made a
    job wait out an empty long poll of the uploads queue (measured: 2.2 s of overhead).
    Only `batched_queue`'s pollers take works together (its jobs share an engine pass; an
    uploads poller holding many messages would only keep them from other workers)."""
    batch = _batch_policy() if batch_handlers else None
    return [
        WorkConsumer(
            sqs,
            [url],
            handlers,
            wait_seconds,
            lease_seconds,
            protection,
            prefetch,
            overlap,
            batch if url == batched_queue else None,
            batch_handlers,
        )
        for url in queues
        for _ in range(per_queue)
    ]


def _batch_policy() -> BatchPolicy | None:
    settings = get_settings()
    if settings.worker_batch_jobs < 2:
        return None
    return BatchPolicy(max_batch_size=settings.worker_batch_jobs, max_wait_ms=settings.worker_batch_wait_ms)


def main() -> None:
    settings = get_settings()
    worker_id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    logger.append_keys(worker_id=worker_id)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    heartbeat, wiring = _load(worker_id)
    Sweeper(SWEEP_INTERVAL_SECONDS, stop).start()
    queues = [url for url in (settings.jobs_queue_url, settings.uploads_queue_url) if url]
    consumers = build_consumers(
        client("sqs"),
        queues,
        wiring.handlers,
        settings.worker_concurrency,
        settings.worker_poll_wait_seconds,
        settings.worker_lease_seconds,
        ScaleInProtection(settings.ecs_agent_uri),
        batch_handlers=wiring.batch_handlers,
        batched_queue=settings.jobs_queue_url,
    )
    logger.info("worker started", extra={"queues": queues, "concurrency": settings.worker_concurrency})
    try:
        _run_until_stopped(consumers, stop)
    finally:
        heartbeat.stop()
        logger.info("worker stopped", extra={"processed": sum(c.processed for c in consumers)})


def _load(worker_id: str) -> tuple[Heartbeat, Wiring]:
    """The engine and the speaker encoder, loaded once, with the heartbeat saying so meanwhile."""
    heartbeat = Heartbeat(worker_id, chosen_engine_name(), get_settings().worker_heartbeat_seconds)
    heartbeat.beat(WorkerState.LOADING)
    engine = load_engine()
    heartbeat.engine = f"{engine.name}:{engine.model}"
    wiring = wire(engine, worker_id)
    wiring.voices.encoder.load()
    wiring.synthesis.watermarker.load()
    heartbeat.beat()
    heartbeat.start()
    return heartbeat, wiring


def _run_until_stopped(consumers: list[WorkConsumer], stop: threading.Event) -> None:
    threads = [threading.Thread(target=c.run, args=(stop,), name=f"consumer-{i}") for i, c in enumerate(consumers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


if __name__ == "__main__":
    main()
