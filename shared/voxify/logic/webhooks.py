"""Webhooks: registration, signing, delivery with retries, and the delivery log.

Every state-change event on the bus reaches the webhooks function (a rule and a queue).
For each of the event owner's active webhooks that asks for its detail-type, a delivery is
logged and POSTed at once; a failed attempt is retried through the same queue with an
exponential delay, up to `webhook_max_attempts`. A webhook whose attempts fail
`webhook_disable_after_failures` times in a row is disabled (a success resets the count).

Signature: `Voxify-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`,
verified as docs/webhooks.md shows. The body is the EventBridge event, as JSON.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel

from voxify.aws import client
from voxify.clock import iso, new_id, now_iso
from voxify.domain.webhooks import (
    DeliveryRecord,
    DeliveryStatus,
    WebhookCreate,
    WebhookRecord,
    WebhookStatus,
)
from voxify.errors import ErrorCode, VoxifyError, found
from voxify.observability import logger
from voxify.repositories.webhooks import DeliveryRepository, WebhookRepository
from voxify.settings import get_settings

SIGNATURE_HEADER = "Voxify-Signature"
SECRET_PREFIX = "whsec_"
MAX_SQS_DELAY_SECONDS = 900
ATTEMPT_MARGIN_SECONDS = 2.0  # saving the outcome and queueing a retry after the POST itself
LOOPBACK_HOSTS = {"localhost"}
NAT64_PREFIX = ipaddress.IPv6Network("64:ff9b::/96")
MAX_WEBHOOKS_PER_USER = 10  # each event fans out to all of them, inside one function batch
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not an instruction: following one could lead a signed
    delivery anywhere, including addresses the registration check would have refused."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def check_url(url: str) -> None:
    """https to a public address; plain http only to a loopback address on a local stack.
    Hosts written as private, link-local or reserved IP addresses (the cloud metadata
    address among them) are refused: deliveries must not reach into the service's network.
    Names are resolved, and judged the same way, at every delivery (`_reachable_publicly`)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    address = _ip(host)
    if _local_loopback(parts.scheme, host, address):
        return
    if parts.scheme != "https":
        raise _bad_url("https required (http only to loopback on a local stack)")
    if host in LOOPBACK_HOSTS or (address is not None and not _is_public(address)):
        raise _bad_url("the address is private, loopback, link-local or reserved")


def _local_loopback(scheme: str, host: str, address: IpAddress | None) -> bool:
    loopback = host in LOOPBACK_HOSTS or (address is not None and address.is_loopback)
    return scheme == "http" and loopback and get_settings().stage == "local"


def _is_public(address: IpAddress) -> bool:
    """Global, judging IPv4 addresses carried inside IPv6 (mapped, NAT64) by what they carry."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return _is_public(address.ipv4_mapped)
        if address in NAT64_PREFIX:
            return _is_public(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return address.is_global


def _reachable_publicly(url: str) -> bool:
    """Whether every address the URL's host resolves to now is public (a name can be
    pointed at a private address after registration; loopback stays allowed locally)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        addresses = resolve_host(host, parts.port or 443)
    except OSError:
        return True  # unresolvable: the attempt itself fails and is logged as such
    return all(_is_public(a) or _local_loopback(parts.scheme, host, a) for a in addresses)


def resolve_host(host: str, port: int) -> list[IpAddress]:
    """Every address a host name resolves to now (what a connection would use)."""
    infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


def _ip(host: str) -> IpAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _bad_url(reason: str) -> VoxifyError:
    return VoxifyError(
        ErrorCode.VALIDATION_ERROR, f"webhook URL refused: {reason}", [{"field": "url", "message": reason}]
    )


def create_webhook(user_id: str, request: WebhookCreate) -> WebhookRecord:
    check_url(str(request.url))
    if len(WebhookRepository().list_for(user_id)) >= MAX_WEBHOOKS_PER_USER:
        raise VoxifyError(
            ErrorCode.CONFLICT,
            f"at most {MAX_WEBHOOKS_PER_USER} webhooks per account; delete one first",
            {"limit": MAX_WEBHOOKS_PER_USER},
        )
    now = now_iso()
    webhook = WebhookRecord(
        webhook_id=new_id("whk"),
        user_id=user_id,
        url=str(request.url),
        events=list(dict.fromkeys(request.events)),
        description=request.description,
        secret=SECRET_PREFIX + secrets.token_urlsafe(32),
        status=WebhookStatus.ACTIVE,
        created_at=now,
        updated_at=now,
    )
    WebhookRepository().create(webhook)
    return webhook


def get_webhook(user_id: str, webhook_id: str) -> WebhookRecord:
    return found(WebhookRepository().get_owned(webhook_id, user_id), "webhook")


def list_webhooks(user_id: str) -> list[WebhookRecord]:
    return WebhookRepository().list_for(user_id)


def delete_webhook(user_id: str, webhook_id: str) -> None:
    get_webhook(user_id, webhook_id)
    WebhookRepository().delete(webhook_id)


def list_deliveries(user_id: str, webhook_id: str) -> list[DeliveryRecord]:
    get_webhook(user_id, webhook_id)
    return DeliveryRepository().list_for_webhook(webhook_id)


def deliver_event(event: dict[str, Any], deadline: float | None = None) -> None:
    """Log and attempt one delivery per active webhook of the event's owner that wants it.
    `deadline` (monotonic seconds) is when the calling function's time runs out: a delivery
    that might not finish by then is queued to run at once in a later invocation instead, so
    one tenant's slow endpoints never time out a batch holding other tenants' events."""
    user_id = (event.get("detail") or {}).get("user_id")
    if not user_id:
        return
    for webhook in WebhookRepository().list_for(user_id):
        if webhook.status != WebhookStatus.ACTIVE or not webhook.wants(event["detail-type"]):
            continue
        now = now_iso()
        delivery = DeliveryRecord(
            delivery_id=new_id("dlv"),
            webhook_id=webhook.webhook_id,
            event_id=event["id"],
            detail_type=event["detail-type"],
            status=DeliveryStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
            payload=json.dumps(event, separators=(",", ":")),
            created_at=now,
            updated_at=now,
        )
        if _time_for_an_attempt(deadline):
            _attempt(webhook, delivery)
        else:
            DeliveryRepository().save(delivery)
            _queue_retry(_retry_of(delivery), delay_seconds=0)


class RetryRequest(BaseModel):
    """What a delayed retry message names: one delivery of one webhook."""

    webhook_id: str
    created_at: str
    delivery_id: str


def retry_delivery(retry: RetryRequest, deadline: float | None = None) -> None:
    """Attempt a pending delivery again, or pass it on if the time left (see
    `deliver_event`) might not hold one attempt."""
    delivery = DeliveryRepository().find(retry.webhook_id, retry.created_at, retry.delivery_id)
    webhook = WebhookRepository().get(retry.webhook_id)
    if delivery is None or delivery.status != DeliveryStatus.PENDING:
        return
    if webhook is None or webhook.status != WebhookStatus.ACTIVE:
        _give_up(delivery, "the webhook was deleted or disabled")
    elif _time_for_an_attempt(deadline):
        _attempt(webhook, delivery)
    else:
        _queue_retry(retry, delay_seconds=0)


def _time_for_an_attempt(deadline: float | None) -> bool:
    needed = get_settings().webhook_timeout_seconds + ATTEMPT_MARGIN_SECONDS
    return deadline is None or time.monotonic() + needed < deadline


def _retry_of(delivery: DeliveryRecord) -> RetryRequest:
    return RetryRequest(
        webhook_id=delivery.webhook_id, created_at=delivery.created_at, delivery_id=delivery.delivery_id
    )


def _queue_retry(retry: RetryRequest, delay_seconds: int) -> None:
    client("sqs").send_message(
        QueueUrl=get_settings().require("webhook_queue_url"),
        DelaySeconds=delay_seconds,
        MessageBody=json.dumps({"retry": retry.model_dump()}),
    )


def abandon_delivery(retry: RetryRequest, reason: str) -> None:
    """A pending delivery whose retry message died: it ends failed, with why."""
    delivery = DeliveryRepository().find(retry.webhook_id, retry.created_at, retry.delivery_id)
    if delivery is not None and delivery.status == DeliveryStatus.PENDING:
        _give_up(delivery, reason)


def _give_up(delivery: DeliveryRecord, reason: str) -> None:
    ended = {"status": DeliveryStatus.FAILED, "next_attempt_at": None, "last_error": reason}
    DeliveryRepository().save(delivery.model_copy(update=ended))


def _attempt(webhook: WebhookRecord, delivery: DeliveryRecord) -> None:
    settings = get_settings()
    status_code, error = _post(webhook, delivery.payload.encode(), delivery.delivery_id, delivery.event_id)
    succeeded = status_code is not None and 200 <= status_code < 300
    attempts = delivery.attempts + 1
    update: dict[str, Any] = {"attempts": attempts, "last_status_code": status_code, "last_error": error}
    current = WebhookRepository().record_attempt(webhook.webhook_id, succeeded, settings.webhook_disable_after_failures)
    if succeeded:
        update |= {"status": DeliveryStatus.SUCCEEDED, "next_attempt_at": None}
    elif attempts >= settings.webhook_max_attempts or not current or current.status != WebhookStatus.ACTIVE:
        update |= {"status": DeliveryStatus.FAILED, "next_attempt_at": None}
    else:
        delay = min(MAX_SQS_DELAY_SECONDS, settings.webhook_retry_base_seconds * 2 ** (attempts - 1))
        update["next_attempt_at"] = iso(datetime.now(UTC) + timedelta(seconds=delay))
        _queue_retry(_retry_of(delivery), delay)
    delivery = delivery.model_copy(update=update)
    DeliveryRepository().save(delivery)
    logger.info(
        "webhook delivery attempted",
        extra={
            "webhook_id": webhook.webhook_id,
            "attempt": attempts,
            "status_code": status_code,
            "delivery": delivery.status,
        },
    )


def _post(webhook: WebhookRecord, body: bytes, delivery_id: str, event_id: str) -> tuple[int | None, str | None]:
    """POST the signed body; (status code, None) when the endpoint answered, else (None, why)."""
    timestamp = int(time.time())
    request = urllib.request.Request(
        webhook.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "Voxify-Webhooks/1",
            SIGNATURE_HEADER: signature(webhook.secret, timestamp, body),
            "Voxify-Delivery-Id": delivery_id,
            "Voxify-Event-Id": event_id,
        },
    )
    if not _reachable_publicly(webhook.url):
        return None, "refused: the host resolves to a private, loopback or link-local address"
    try:
        with _opener.open(request, timeout=get_settings().webhook_timeout_seconds) as response:
            return response.status, None
    except urllib.error.HTTPError as answer:
        return answer.code, f"HTTP {answer.code}"
    except TimeoutError:
        return None, "timed out"
    except (urllib.error.URLError, OSError) as failure:
        # the reason (refused, unreachable, reset) would map the network behind the name
        timed_out = isinstance(getattr(failure, "reason", None), TimeoutError)
        return None, "timed out" if timed_out else "could not connect"
