"""An email address field checked by its shape alone.

Addresses only name accounts and receive reset links; whether one exists shows when a mail
is delivered, not before. A shape check is all sign-up needs, and it keeps a validation
library and a DNS resolver (several MiB) out of the Lambda layer.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, WithJsonSchema

_MAX_ADDRESS = 254  # RFC 5321's limit on a forward path, less the angle brackets
_MAX_LOCAL = 64
_LOCAL = re.compile(r"[^\s@\"(),:;<>\[\]\\]+")
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_TOP_LEVEL = re.compile(r"[a-z]{2,63}|xn--[a-z0-9-]{1,59}")


def normalized_email(value: str) -> str:
    """`value` with its domain in lower-case ASCII (IDNA), or ValueError naming what is wrong."""
    local, at, domain = value.strip().rpartition("@")
    if not at or not local or not domain:
        raise ValueError("an email address has the form name@domain")
    if len(local) > _MAX_LOCAL or not _LOCAL.fullmatch(local):
        raise ValueError("the part before @ is not a valid mailbox name")
    try:
        ascii_domain = domain.encode("idna").decode("ascii").lower()
    except UnicodeError as error:
        raise ValueError("the domain is not a valid host name") from error
    *labels, top = ascii_domain.split(".")
    if not labels or not all(_LABEL.fullmatch(label) for label in labels) or not _TOP_LEVEL.fullmatch(top):
        raise ValueError("the domain is not a valid host name")
    address = f"{local}@{ascii_domain}"
    if len(address) > _MAX_ADDRESS:
        raise ValueError(f"an email address has at most {_MAX_ADDRESS} characters")
    return address


EmailAddress = Annotated[str, AfterValidator(normalized_email), WithJsonSchema({"type": "string", "format": "email"})]
