"""Inbound "Synthesis Requested" events from the bus, delivered through SQS.

Each becomes a job (`voxify.logic.ingest`) and the sender hears back on the bus:
"Synthesis Request Accepted" with the job id, or "Synthesis Request Rejected" with a stable
reason code. Either carries the request's correlation id.
"""

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from voxify.logic.ingest import answer_synthesis_request
from voxify.observability import logger

processor = BatchProcessor(event_type=EventType.SQS)


def handle_request(record: SQSRecord) -> None:
    event = json.loads(record.body)
    logger.append_keys(request_event_id=event.get("id"))
    answer_synthesis_request(event)


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=handle_request, processor=processor, context=context)
