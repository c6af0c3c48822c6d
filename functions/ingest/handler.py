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

from voxify.errors import VoxifyError
from voxify.events import EventPublisher
from voxify.logic.ingest import accept_synthesis_request
from voxify.observability import logger

processor = BatchProcessor(event_type=EventType.SQS)


def handle_request(record: SQSRecord) -> None:
    event = json.loads(record.body)
    detail = event.get("detail") if isinstance(event.get("detail"), dict) else {}
    reply = {"request_event_id": event.get("id"), "correlation_id": detail.get("correlation_id")}
    logger.append_keys(request_event_id=event.get("id"))
    try:
        job = accept_synthesis_request(event)
    except VoxifyError as error:
        logger.info("synthesis request rejected", extra={"code": error.code.value})
        EventPublisher().publish(
            "Synthesis Request Rejected",
            {**reply, "reason": {"code": error.code.value, "message": error.message, "details": error.details}},
        )
        return
    EventPublisher().publish("Synthesis Request Accepted", {**reply, "job_id": job.job_id, "user_id": job.user_id})


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=handle_request, processor=processor, context=context)
