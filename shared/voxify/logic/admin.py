"""What administrators see and change: statistics, accounts, live limits."""

from __future__ import annotations

from pydantic import BaseModel

from voxify.domain.runtime_config import ConfigUpdate, RuntimeConfig
from voxify.repositories.inventory import InventoryRepository
from voxify.repositories.runtime_config import RuntimeConfigRepository


class ServiceStats(BaseModel):
    users: int
    samples: int
    clones: int
    jobs: int
    jobs_by_status: dict[str, int]


def stats() -> ServiceStats:
    inventory = InventoryRepository().count()
    kinds = inventory.records_by_kind
    return ServiceStats(
        users=kinds["PROFILE"],
        samples=kinds["SAMPLE"],
        clones=kinds["CLONE"],
        jobs=kinds["JOB"],
        jobs_by_status=dict(inventory.jobs_by_status),
    )


def runtime_config() -> RuntimeConfig:
    return RuntimeConfigRepository().current()


def update_runtime_config(update: ConfigUpdate) -> RuntimeConfig:
    return RuntimeConfigRepository().update(update.model_dump(exclude_none=True))
