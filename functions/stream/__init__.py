"""The streaming face of the HTTP API: the same app, run by uvicorn under the Lambda Web Adapter."""
