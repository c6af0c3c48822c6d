"""Sends requests through the API function's handler as API Gateway would, and prints each
answer's status and body as JSON lines. Run by test_layer.py with the layer and the
function's folder as the only sources of packages."""

import json
import sys
from typing import Any

import handler  # type: ignore[import-not-found]


class Context:
    """The Lambda context attributes the handler's logger reads."""

    function_name = "voxify-api"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:voxify-api"
    aws_request_id = "request-1"


def event(method: str, path: str, body: str | None) -> dict[str, Any]:
    http = {"method": method, "path": path, "sourceIp": "127.0.0.1", "protocol": "HTTP/1.1", "userAgent": "probe"}
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"host": "api.example.com", "content-type": "application/json"},
        "requestContext": {"http": http, "requestId": "request-1", "stage": "$default", "routeKey": "$default"},
        "body": body,
        "isBase64Encoded": False,
    }


for line in sys.argv[1:]:
    method, path, *body = line.split(" ", 2)
    answer = handler.handler(event(method, path, body[0] if body else None), Context())
    print(json.dumps({"request": line, "status": answer["statusCode"], "body": answer["body"]}))
