"""`python -m voxify_worker`: the worker process of the local stack and the container.

SIGTERM/SIGINT stop it taking work; the message in hand is finished, the rest handed back.
"""

import os
import signal
import socket
import threading
import uuid

from voxify.aws import client
from voxify.observability import logger
from voxify.settings import get_settings
from voxify_worker.consumer import WorkConsumer, WorkHandler
from voxify_worker.heartbeat import Heartbeat

# Work kinds this worker executes; the synthesis and sample pipelines register here.
HANDLERS: dict[str, WorkHandler] = {}


def main() -> None:
    settings = get_settings()
    worker_id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    logger.append_keys(worker_id=worker_id)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())

    heartbeat = Heartbeat(worker_id, settings.default_engine, settings.worker_heartbeat_seconds)
    heartbeat.beat()
    heartbeat.start()
    queues = [url for url in (settings.jobs_queue_url, settings.uploads_queue_url) if url]
    consumer = WorkConsumer(client("sqs"), queues, HANDLERS, settings.worker_poll_wait_seconds)
    logger.info("worker started", extra={"queues": queues, "kinds": sorted(HANDLERS)})
    try:
        consumer.run(stop)
    finally:
        heartbeat.stop()
        logger.info("worker stopped", extra={"processed": consumer.processed})


if __name__ == "__main__":
    main()
