"""The data table's stream consumer: announces each job state change on the bus
(see `voxify.logic.job_events`)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from voxify.logic.job_events import announce_job_changes
from voxify.observability import logger
from voxify.repositories.jobs import streamed_job


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, list[dict[str, str]]]:
    changes = [change for record in event["Records"] if (change := streamed_job(record))]
    failed = announce_job_changes(changes)
    return {"batchItemFailures": [{"itemIdentifier": failed}] if failed else []}
