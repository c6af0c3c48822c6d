"""/api/v1/webhooks: endpoints that receive your state-change events, and their delivery log."""

from typing import Any

from fastapi import APIRouter, Depends, Request

from voxify.domain.users import Scope
from voxify.domain.webhooks import Webhook, WebhookCreate, WebhookCreated, WebhookDelivery
from voxify.http.deps import CurrentUser, DeliveryPage, Page, require_scope
from voxify.http.envelope import Answer, Envelope, ok, paged
from voxify.http.idempotency import SecretCreated, run_idempotent_secret
from voxify.logic import webhooks

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"], dependencies=[Depends(require_scope(Scope.WEBHOOKS))])


@router.post("", status_code=201, response_model=Envelope[WebhookCreated])
def create_webhook(body: WebhookCreate, request: Request, principal: CurrentUser) -> Any:
    """Deliveries are POSTs of the event JSON, signed with the secret returned here (once).
    See /docs and docs/webhooks.md for verifying `Voxify-Signature`."""

    def create() -> SecretCreated:
        webhook = webhooks.create_webhook(principal.user_id, body)
        return 201, ok(webhook.with_secret(), "store the secret now"), ok(webhook.public(), "store the secret now")

    return run_idempotent_secret(
        request, principal.user_id, body.model_dump(mode="json"), create, "webhook", ("webhook_id",)
    )


@router.get("", response_model=Envelope[list[Webhook]])
def list_webhooks(principal: CurrentUser, page: Page) -> Answer:
    return paged([hook.public() for hook in webhooks.list_webhooks(principal.user_id)], page)


@router.get("/{webhook_id}", response_model=Envelope[Webhook])
def get_webhook(webhook_id: str, principal: CurrentUser) -> Answer:
    return ok(webhooks.get_webhook(principal.user_id, webhook_id).public())


@router.delete("/{webhook_id}", response_model=Envelope[None])
def delete_webhook(webhook_id: str, principal: CurrentUser) -> Answer:
    webhooks.delete_webhook(principal.user_id, webhook_id)
    return ok(None, "webhook deleted")


@router.get("/{webhook_id}/deliveries", response_model=Envelope[list[WebhookDelivery]])
def list_deliveries(webhook_id: str, principal: CurrentUser, page: DeliveryPage) -> Answer:
    """Newest first: each delivery's attempts, last HTTP status or error, and next retry."""
    return paged([d.public() for d in webhooks.list_deliveries(principal.user_id, webhook_id)], page)
