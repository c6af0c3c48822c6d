"""Adapters to AWS services that hold no records: outgoing mail (SES), secrets (Secrets Manager)."""
