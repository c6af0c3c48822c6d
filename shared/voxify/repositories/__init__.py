"""Data access: DynamoDB, S3, SQS and EventBridge behind small interfaces."""
