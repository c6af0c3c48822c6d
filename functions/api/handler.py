"""Lambda entry point of the HTTP API: API Gateway HTTP API (v2) events through Mangum."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from mangum import Mangum

from voxify.http.app import create_app
from voxify.observability import logger

app = create_app()
_mangum = Mangum(app, lifespan="off")


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # Powertools' LambdaContext exposes read-only properties where mangum's LambdaContext Protocol declares
    # settable attributes, so the two libraries' types disagree about the same runtime object.
    return _mangum(event, context)  # type: ignore[arg-type]
