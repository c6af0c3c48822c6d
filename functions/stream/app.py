"""The ASGI app the Lambda Web Adapter's uvicorn serves (run.sh): the whole HTTP API, so that
audio streams leave as they are made instead of being buffered by Mangum and API Gateway."""

from voxify.http.app import create_app

app = create_app()
