"""State-change events for webhooks (from the bus through SQS), and delivery retries.

A message is either an EventBridge event (deliver it to the owner's webhooks) or
`{"retry": {...}}`, a delayed retry of one delivery that `voxify.logic.webhooks` queued.
"""

import json
import time
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from voxify.logic.webhooks import RetryRequest, deliver_event, retry_delivery
from voxify.observability import logger

processor = BatchProcessor(event_type=EventType.SQS)


def handle_message(record: SQSRecord, lambda_context: LambdaContext) -> None:
    """One message; deliveries that might outlast the function's remaining time are passed on."""
    deadline = time.monotonic() + lambda_context.get_remaining_time_in_millis() / 1000
    message = json.loads(record.body)
    if "retry" in message:
        logger.append_keys(delivery_id=message["retry"]["delivery_id"])
        retry_delivery(RetryRequest.model_validate(message["retry"]), deadline)
    else:
        logger.append_keys(event_id=message.get("id"))
        deliver_event(message, deadline)


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=handle_message, processor=processor, context=context)
