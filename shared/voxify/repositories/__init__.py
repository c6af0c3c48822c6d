"""Table access: one repository per kind of record in DynamoDB, returning typed records."""
