"""Webhooks: HTTPS endpoints that receive Voxify's state-change events, signed."""

from typing import Literal

from pydantic import BaseModel, Field, HttpUrl

WebhookEvent = Literal["*", "Job State Change", "Batch State Change", "Voice Sample State Change",
                       "Voice Clone State Change"]


class WebhookCreate(BaseModel):
    url: HttpUrl = Field(description="https; plain http only to loopback on a local stack",
                         examples=["https://example.com/hooks/voxify"])
    events: list[WebhookEvent] = Field(default=["*"], min_length=1, max_length=5,
                                       description="detail-types to receive; '*' for all")
    description: str | None = Field(default=None, max_length=500)


class Webhook(BaseModel):
    webhook_id: str
    url: str
    events: list[str]
    description: str | None = None
    status: Literal["active", "disabled"]
    consecutive_failures: int = 0
    disabled_reason: str | None = None
    created_at: str
    updated_at: str


class WebhookCreated(Webhook):
    secret: str = Field(description="signs every delivery (Voxify-Signature); shown once, store it now")


class WebhookDelivery(BaseModel):
    delivery_id: str
    webhook_id: str
    event_id: str
    detail_type: str
    status: Literal["pending", "succeeded", "failed"]
    attempts: int
    last_status_code: int | None = None
    last_error: str | None = None
    next_attempt_at: str | None = None
    created_at: str
    updated_at: str
