"""Outgoing e-mail through SES (the emulator records what would have been sent)."""

from voxify.aws import client
from voxify.settings import get_settings


def send_email(to: str, subject: str, text: str) -> None:
    client("ses").send_email(
        Source=get_settings().sender_email,
        Destination={"ToAddresses": [to]},
        Message={"Subject": {"Data": subject}, "Body": {"Text": {"Data": text}}},
    )
