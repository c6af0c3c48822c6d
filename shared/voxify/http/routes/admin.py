"""/api/v1/admin: statistics, users, live configuration (admins only)."""

from collections import Counter
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from voxify.domain.voices import AdminClone, CloneStatus, ReviewDecision
from voxify.errors import not_found
from voxify.http.deps import require_admin
from voxify.http.envelope import Envelope, ok, paged
from voxify.logic import voices
from voxify.logic.auth import Principal
from voxify.repositories.base import TableRepository
from voxify.repositories.runtime_config import RuntimeConfigRepository
from voxify.repositories.users import UserRepository, public_user
from voxify.repositories.voices import CloneRepository

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])


class ConfigUpdate(BaseModel):
    rate_limit_per_minute: int | None = Field(default=None, ge=1, le=100_000)
    daily_sample_quota: int | None = Field(default=None, ge=1, le=1_000_000)
    daily_job_quota: int | None = Field(default=None, ge=1, le=1_000_000)
    default_engine: Literal["auto", "f5tts", "formant"] | None = None


class UserStatusUpdate(BaseModel):
    disabled: bool


@router.get("/stats", response_model=Envelope[dict[str, Any]])
def stats(_: Principal = Depends(require_admin)) -> dict:
    table = TableRepository()
    counts: Counter[str] = Counter()
    jobs_by_status: Counter[str] = Counter()
    for page_item in table.table.scan(ProjectionExpression="sk, #s",
                                      ExpressionAttributeNames={"#s": "status"}).get("Items", []):
        counts[page_item["sk"]] += 1
        if page_item["sk"] == "JOB":
            jobs_by_status[page_item["status"]] += 1
    return ok({"users": counts["PROFILE"], "samples": counts["SAMPLE"], "clones": counts["CLONE"],
               "jobs": counts["JOB"], "jobs_by_status": dict(jobs_by_status)})


@router.get("/users", response_model=Envelope[list[dict[str, Any]]])
def users(limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0),
          _: Principal = Depends(require_admin)) -> dict:
    everyone = UserRepository().list_all()
    return paged(everyone, limit, offset)


@router.patch("/users/{user_id}", response_model=Envelope[dict[str, Any]])
def set_user_status(user_id: str, body: UserStatusUpdate, _: Principal = Depends(require_admin)) -> dict:
    """Disable (or re-enable) an account; a disabled account's tokens and keys stop working."""
    updated = UserRepository().update(user_id, {"disabled": body.disabled})
    if updated is None:
        raise not_found("user")
    return ok(public_user(updated))


@router.get("/config", response_model=Envelope[dict[str, Any]])
def get_config(_: Principal = Depends(require_admin)) -> dict:
    return ok(RuntimeConfigRepository().current())


@router.put("/config", response_model=Envelope[dict[str, Any]])
def put_config(body: ConfigUpdate, _: Principal = Depends(require_admin)) -> dict:
    return ok(RuntimeConfigRepository().update(body.model_dump(exclude_none=True)), "configuration saved")


@router.get("/clones", response_model=Envelope[list[AdminClone]])
def clones_in_state(status: CloneStatus = CloneStatus.NEEDS_REVIEW, limit: int = Query(50, ge=1, le=500),
                    offset: int = Query(0, ge=0), _: Principal = Depends(require_admin)) -> dict:
    """Clones in one state across users, oldest first: by default those held for review."""
    clones = CloneRepository().list_in_state(status.value)
    return paged(clones, limit, offset)


@router.post("/clones/{clone_id}/review", response_model=Envelope[AdminClone])
def review_clone(clone_id: str, body: ReviewDecision, admin: Principal = Depends(require_admin)) -> dict:
    """Approve (ready) or reject a clone held for review; the decision is kept on the clone."""
    clone = voices.review_clone(clone_id, admin.user_id, body.approve, body.note)
    return ok(clone, "approved" if body.approve else "rejected")
