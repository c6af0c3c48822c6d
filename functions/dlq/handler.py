"""Marks a job failed with its last error when its work message dies in the jobs DLQ."""

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import ValidationError

from voxify.errors import ErrorCode
from voxify.events import EventPublisher
from voxify.observability import logger
from voxify.queue import WorkMessage
from voxify.repositories.jobs import JobRepository

processor = BatchProcessor(event_type=EventType.SQS)


def fail_dead_job(record: SQSRecord) -> None:
    try:
        message = WorkMessage.model_validate_json(record.body)
    except ValidationError:
        logger.error("unreadable message in the jobs DLQ; dropped", extra={"body": record.body[:500]})
        return
    if message.kind != "synthesis":
        return
    jobs = JobRepository()
    job = jobs.get(message.id) or {}
    last_error = job.get("last_error") or "the job's message exhausted its delivery attempts"
    logger.append_keys(job_id=message.id)
    failed = jobs.mark_failed(message.id, ErrorCode.RETRIES_EXHAUSTED, last_error)
    if failed:
        logger.info("job failed after its message died")
        EventPublisher().job_changed(failed)


@logger.inject_lambda_context
def handler(event: dict, context: object) -> dict:
    return process_partial_response(
        event=event, record_handler=fail_dead_job, processor=processor, context=context
    )
