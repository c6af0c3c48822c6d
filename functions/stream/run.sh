#!/bin/sh
# Startup command for the Lambda Web Adapter (AWS_LAMBDA_EXEC_WRAPPER=/opt/bootstrap): the app on
# the port the adapter forwards requests to. The shared layer's packages live in /opt/python.
export PYTHONPATH="$LAMBDA_TASK_ROOT:/opt/python:$PYTHONPATH"
exec python -m uvicorn --host 127.0.0.1 --port "$PORT" --no-access-log app:app
