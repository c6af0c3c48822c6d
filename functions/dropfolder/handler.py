"""Drop-folder manifests: S3 ObjectCreated notifications for `dropbox/` arrive via SQS.

Each notification names a manifest; `voxify.logic.batches.ingest_manifest` turns it into a
batch of jobs (or an error report beside it). Object keys arrive `quote_plus`-encoded.
"""

import json
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from voxify.logic.batches import ingest_manifest
from voxify.observability import logger
from voxify.storage import AudioStore

processor = BatchProcessor(event_type=EventType.SQS)


def handle_notification(record: SQSRecord) -> None:
    notification = json.loads(record.body)
    for s3_record in notification.get("Records", []):  # s3:TestEvent has none
        key = unquote_plus(s3_record["s3"]["object"]["key"])
        etag = s3_record["s3"]["object"].get("eTag", "")
        logger.append_keys(manifest_key=key)
        store = AudioStore(s3_record["s3"]["bucket"]["name"])
        if store.size(key) is None:
            logger.info("manifest gone before it was read")
            continue
        ingest_manifest(key, etag, store.get(key))


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=handle_notification, processor=processor, context=context
    )
