"""Business rules, one module per area; no boto3 calls here, only repositories."""
