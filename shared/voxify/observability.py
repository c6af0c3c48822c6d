"""Powertools Logger (JSON, correlation ids), configured once.

Every module logs through `logger`; handlers add `request_id`/`job_id` with
`logger.append_keys` so a job can be followed from the API through the queue to the worker.
"""

import os

from aws_lambda_powertools import Logger

# The template names the functions' service "voxify" and the worker's "voxify-worker".
SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "voxify")

logger = Logger(service=SERVICE)
