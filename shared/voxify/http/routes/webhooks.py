"""/api/v1/webhooks: endpoints that receive your state-change events, and their delivery log."""

from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from voxify.domain.webhooks import Webhook, WebhookCreate, WebhookCreated, WebhookDelivery
from voxify.http.deps import current_principal
from voxify.http.envelope import Envelope, ok, paged
from voxify.http.idempotency import run_idempotent
from voxify.logic import webhooks
from voxify.logic.auth import Principal
from voxify.repositories.webhooks import WebhookRepository

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])


@router.post("", status_code=201, response_model=Envelope[WebhookCreated])
def create_webhook(body: WebhookCreate, request: Request, principal: Principal = Depends(current_principal)) -> Any:
    """Deliveries are POSTs of the event JSON, signed with the secret returned here (once).
    See /docs and docs/webhooks.md for verifying `Voxify-Signature`."""
    return run_idempotent(request, principal.user_id, body.model_dump(mode="json"), lambda: (
        201, ok(webhooks.create_webhook(principal.user_id, body), "store the secret now")))


@router.get("", response_model=Envelope[list[Webhook]])
def list_webhooks(limit: int = Query(20, ge=1, le=100), offset: int = Query(0, ge=0),
                  principal: Principal = Depends(current_principal)) -> dict:
    hooks = WebhookRepository().list_for(principal.user_id)
    return paged(hooks, limit, offset)


@router.get("/{webhook_id}", response_model=Envelope[Webhook])
def get_webhook(webhook_id: str, principal: Principal = Depends(current_principal)) -> dict:
    return ok(webhooks.get_webhook(principal.user_id, webhook_id))


@router.delete("/{webhook_id}", response_model=Envelope[None])
def delete_webhook(webhook_id: str, principal: Principal = Depends(current_principal)) -> dict:
    webhooks.delete_webhook(principal.user_id, webhook_id)
    return ok(None, "webhook deleted")


@router.get("/{webhook_id}/deliveries", response_model=Envelope[list[WebhookDelivery]])
def list_deliveries(webhook_id: str, limit: int = Query(50, ge=1, le=200), offset: int = Query(0, ge=0),
                    principal: Principal = Depends(current_principal)) -> dict:
    """Newest first: each delivery's attempts, last HTTP status or error, and next retry."""
    deliveries = webhooks.list_deliveries(principal.user_id, webhook_id)
    return paged(deliveries, limit, offset)
