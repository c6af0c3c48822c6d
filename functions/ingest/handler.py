"""Inbound "Synthesis Requested" events from the bus, delivered through SQS.

This release validates the envelope and answers every request with a "Synthesis Request
Rejected" event (reason: not enabled) on the bus, so senders always hear back.
"""

import json

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from voxify.aws import client
from voxify.observability import logger
from voxify.settings import get_settings

processor = BatchProcessor(event_type=EventType.SQS)


def reject_request(record: SQSRecord) -> None:
    event = json.loads(record.body)
    detail = event.get("detail", {})
    logger.info("synthesis request received", extra={"event_id": event.get("id")})
    client("events").put_events(Entries=[{
        "Source": "voxify",
        "DetailType": "Synthesis Request Rejected",
        "EventBusName": get_settings().event_bus_name,
        "Detail": json.dumps({
            "request_event_id": event.get("id"),
            "correlation_id": detail.get("correlation_id"),
            "reason": {"code": "INGEST_NOT_ENABLED", "message": "inbound requests are not enabled"},
        }),
    }])


@logger.inject_lambda_context
def handler(event: dict, context: object) -> dict:
    return process_partial_response(
        event=event, record_handler=reject_request, processor=processor, context=context
    )
