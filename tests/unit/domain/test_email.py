"""Email addresses at sign-up: the shapes accepted, the domain normalised, clear refusals."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from voxify.domain.email import EmailAddress

ADDRESS = TypeAdapter(EmailAddress)


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("ada@example.com", "ada@example.com"),
        ("  Ada.Lovelace+tts@Example.CO.uk ", "Ada.Lovelace+tts@example.co.uk"),
        ("jürgen@bücher.de", "jürgen@xn--bcher-kva.de"),
    ],
)
def test_valid_addresses_keep_their_mailbox_and_lower_their_domain(given: str, kept: str) -> None:
    assert ADDRESS.validate_python(given) == kept


@pytest.mark.parametrize(
    "given",
    ["not-an-email", "@example.com", "ada@", "ada@localhost", "a b@example.com", "ada@-bad.com", "ada@example.c0m"],
)
def test_malformed_addresses_are_refused(given: str) -> None:
    with pytest.raises(ValidationError):
        ADDRESS.validate_python(given)


def test_overlong_addresses_are_refused() -> None:
    with pytest.raises(ValidationError, match="mailbox"):
        ADDRESS.validate_python("a" * 65 + "@example.com")
    with pytest.raises(ValidationError, match="254"):
        ADDRESS.validate_python("a@" + "b" * 60 + "." + ("c" * 60 + ".") * 4 + "com")


def test_the_schema_still_says_email() -> None:
    assert ADDRESS.json_schema() == {"type": "string", "format": "email"}
