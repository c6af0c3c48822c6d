"""Every dead-letter queue's consumer: work whose message died ends with its last error
(see `voxify.logic.dead_letters`)."""

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from voxify.logic.dead_letters import settle_dead_letter
from voxify.observability import logger

processor = BatchProcessor(event_type=EventType.SQS)


def handle_dead_message(record: SQSRecord) -> None:
    outcome = settle_dead_letter(record.body)
    logger.info("dead letter settled", extra={"queue": record.event_source_arn.rsplit(":", 1)[-1], "outcome": outcome})


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=handle_dead_message, processor=processor, context=context
    )
