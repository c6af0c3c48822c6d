"""Drop-folder manifests: S3 ObjectCreated notifications for `dropbox/` arrive via SQS.

This release recognises the notifications (object keys arrive `quote_plus`-encoded) and
leaves each manifest in place with a `.error.json` report beside it saying batches are not
accepted yet, so a user who drops a file is told what happened instead of hearing nothing.
"""

import json
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from voxify.aws import client
from voxify.observability import logger

processor = BatchProcessor(event_type=EventType.SQS)
REPORT_SUFFIX = ".error.json"


def report_manifest(record: SQSRecord) -> None:
    notification = json.loads(record.body)
    for s3_record in notification.get("Records", []):  # s3:TestEvent has none
        bucket = s3_record["s3"]["bucket"]["name"]
        key = unquote_plus(s3_record["s3"]["object"]["key"])
        if key.endswith(REPORT_SUFFIX):
            continue
        logger.info("manifest received", extra={"bucket": bucket, "key": key})
        report = {"manifest": key, "error": {"code": "BATCHES_NOT_ENABLED",
                                             "message": "drop-folder batches are not enabled"}}
        client("s3").put_object(Bucket=bucket, Key=key + REPORT_SUFFIX,
                                Body=json.dumps(report).encode(), ContentType="application/json")


@logger.inject_lambda_context
def handler(event: dict, context: object) -> dict:
    return process_partial_response(
        event=event, record_handler=report_manifest, processor=processor, context=context
    )
