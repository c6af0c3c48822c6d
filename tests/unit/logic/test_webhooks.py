"""Webhook rules that need no AWS: the signature format, and which URLs may be registered."""

import hashlib
import hmac
import ipaddress

import pytest

from voxify.errors import ErrorCode, VoxifyError
from voxify.logic.webhooks import _is_public, check_url, signature


def test_signature_is_hmac_sha256_over_timestamp_dot_body():
    expected = hmac.new(b"whsec_s", b"1700000000." + b'{"a":1}', hashlib.sha256).hexdigest()
    assert signature("whsec_s", 1700000000, b'{"a":1}') == f"t=1700000000,v1={expected}"


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/h",
        "https://10.0.0.1/h",
        "https://169.254.169.254/latest",
        "https://127.0.0.1/h",
        "https://[::1]/h",
        "ftp://example.com/h",
    ],
)
def test_private_plain_or_odd_urls_are_refused(url):
    with pytest.raises(VoxifyError) as refused:
        check_url(url)
    assert refused.value.code == ErrorCode.VALIDATION_ERROR


def test_public_https_and_local_loopback_http_are_accepted():
    check_url("https://example.com/hooks/voxify")
    check_url("http://127.0.0.1:9000/hook")  # the local stage allows loopback over plain http


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("64:ff9b::a00:1", False),
        ("::ffff:10.0.0.1", False),
        ("64:ff9b::808:808", True),
        ("8.8.8.8", True),
        ("169.254.169.254", False),
        ("fd00::1", False),
    ],
)
def test_addresses_inside_ipv6_are_judged_by_the_ipv4_they_carry(address, public):
    assert _is_public(ipaddress.ip_address(address)) is public


def test_nat64_and_mapped_literals_are_refused_at_registration():
    for url in ("https://[64:ff9b::a9fe:a9fe]/latest", "https://[::ffff:192.168.0.1]/h"):
        with pytest.raises(VoxifyError):
            check_url(url)
