"""Drop-folder jobs' "Job State Change" events (ends only), from the bus through SQS.

Each moves its batch on: see `voxify.logic.batches.record_job_outcome`.
"""

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from voxify.domain.jobs import JobStatus
from voxify.logic.batches import record_job_outcome
from voxify.observability import logger

processor = BatchProcessor(event_type=EventType.SQS)


def handle_job_event(record: SQSRecord) -> None:
    detail = json.loads(record.body)["detail"]
    logger.append_keys(job_id=detail.get("job_id"), batch_id=detail.get("batch_id"))
    record_job_outcome(detail.get("batch_id"), detail["job_id"], JobStatus(detail["status"]))


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=handle_job_event, processor=processor, context=context)
