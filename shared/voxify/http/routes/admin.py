"""/api/v1/admin: statistics, users, live configuration, clone reviews (admins only)."""

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from voxify.domain.runtime_config import ConfigUpdate
from voxify.domain.voices import AdminClone, CloneStatus, ReviewDecision
from voxify.http.deps import AdminPage, AdminUser
from voxify.http.envelope import Answer, Envelope, ok, paged
from voxify.logic import admin, auth, voices

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])


class UserStatusUpdate(BaseModel):
    disabled: bool


@router.get("/stats", response_model=Envelope[dict[str, Any]])
def stats(_: AdminUser) -> Answer:
    return ok(admin.stats())


@router.get("/users", response_model=Envelope[list[dict[str, Any]]])
def users(_: AdminUser, page: AdminPage) -> Answer:
    return paged([user.public() for user in auth.list_users()], page)


@router.patch("/users/{user_id}", response_model=Envelope[dict[str, Any]])
def set_user_status(user_id: str, body: UserStatusUpdate, _: AdminUser) -> Answer:
    """Disable (or re-enable) an account; a disabled account's tokens and keys stop working."""
    return ok(auth.set_user_disabled(user_id, body.disabled).public())


@router.get("/config", response_model=Envelope[dict[str, Any]])
def get_config(_: AdminUser) -> Answer:
    return ok(admin.runtime_config())


@router.put("/config", response_model=Envelope[dict[str, Any]])
def put_config(body: ConfigUpdate, admin_user: AdminUser) -> Answer:
    return ok(admin.update_runtime_config(body, admin_user.user_id), "configuration saved")


@router.get("/clones", response_model=Envelope[list[AdminClone]])
def clones_in_state(_: AdminUser, page: AdminPage, status: CloneStatus = CloneStatus.NEEDS_REVIEW) -> Answer:
    """Clones in one state across users, oldest first: by default those held for review."""
    return paged([clone.admin_view() for clone in voices.clones_in_state(status)], page)


@router.post("/clones/{clone_id}/review", response_model=Envelope[AdminClone])
def review_clone(clone_id: str, body: ReviewDecision, admin_user: AdminUser) -> Answer:
    """Approve (ready) or reject a clone held for review; the decision is kept on the clone."""
    clone = voices.review_clone(clone_id, admin_user.user_id, body.approve, body.note)
    return ok(clone.admin_view(), "approved" if body.approve else "rejected")
