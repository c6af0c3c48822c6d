"""Lambda entry point of the HTTP API: API Gateway HTTP API (v2) events through Mangum."""

from mangum import Mangum

from voxify.http.app import create_app
from voxify.observability import logger

app = create_app()
_mangum = Mangum(app, lifespan="off")


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
def handler(event: dict, context: object) -> dict:
    return _mangum(event, context)
