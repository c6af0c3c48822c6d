"""The scheduled recovery: stranded jobs requeued or ended, batches that missed an event
finished (see `voxify.logic.recovery`). Runs outside the workers, so it also runs when the
worker service has scaled to zero."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from voxify.logic.recovery import recover
from voxify.observability import logger


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    return {"moved_on": recover()}
