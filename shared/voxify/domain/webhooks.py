"""Webhooks: HTTPS endpoints that receive Voxify's state-change events, signed."""

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field, HttpUrl

from voxify.domain.records import OwnedRecord, view

WebhookEvent = Literal[
    "*",
    "Job State Change",
    "Batch State Change",
    "Voice Sample State Change",
    "Voice Clone State Change",
    "Voice Verification State Change",
]


class WebhookCreate(BaseModel):
    url: HttpUrl = Field(
        description="https; plain http only to loopback on a local stack", examples=["https://example.com/hooks/voxify"]
    )
    events: list[WebhookEvent] = Field(
        default=["*"], min_length=1, max_length=5, description="detail-types to receive; '*' for all"
    )
    description: str | None = Field(default=None, max_length=500)


class WebhookStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Webhook(BaseModel):
    webhook_id: str
    url: str
    events: list[str]
    description: str | None = None
    status: WebhookStatus
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
    status: DeliveryStatus
    attempts: int
    last_status_code: int | None = None
    last_error: str | None = None
    next_attempt_at: str | None = None
    created_at: str
    updated_at: str


class WebhookRecord(WebhookCreated, OwnedRecord):
    """A webhook as stored, its signing secret included."""

    def public(self) -> Webhook:
        return view(Webhook, self)

    def with_secret(self) -> WebhookCreated:
        return view(WebhookCreated, self)

    def wants(self, detail_type: str) -> bool:
        return "*" in self.events or detail_type in self.events


class DeliveryRecord(WebhookDelivery):
    """A delivery as stored: the exact body every attempt sends."""

    payload: str

    def public(self) -> WebhookDelivery:
        return view(WebhookDelivery, self)
