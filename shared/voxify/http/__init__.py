"""The HTTP API: a FastAPI app served by uvicorn locally and by Mangum in Lambda."""
