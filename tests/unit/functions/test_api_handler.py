"""The Lambda entry point answers API Gateway HTTP API (payload v2) events through Mangum."""

import json

from tests.fixtures.lambda_events import http_api_event, lambda_context


def test_health_through_mangum():
    from functions.api.handler import handler

    response = handler(http_api_event("GET", "/health"), lambda_context("voxify-test-api"))
    assert response["statusCode"] == 200
    body = json.loads(response["body"])
    assert body["success"] is True
    assert body["data"]["status"] == "ok"


def test_openapi_document_is_served():
    from functions.api.handler import handler

    response = handler(http_api_event("GET", "/openapi.json"), lambda_context("voxify-test-api"))
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["info"]["title"] == "Voxify"
