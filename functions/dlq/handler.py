"""Marks a job failed with its last error when its work message dies in the jobs DLQ."""

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from voxify.logic.jobs import fail_dead_job
from voxify.observability import logger
from voxify.queue import WorkMessage

processor = BatchProcessor(event_type=EventType.SQS)


def handle_dead_message(record: SQSRecord) -> None:
    try:
        message = WorkMessage.model_validate_json(record.body)
    except ValidationError:
        logger.error("unreadable message in the jobs DLQ; dropped", extra={"body": record.body[:500]})
        return
    if message.kind != "synthesis":
        return
    logger.append_keys(job_id=message.id)
    if fail_dead_job(message.id):
        logger.info("job failed after its message died")


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=handle_dead_message, processor=processor, context=context
    )
