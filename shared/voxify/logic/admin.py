"""What administrators see and change: statistics, accounts, live limits."""

from __future__ import annotations

from pydantic import BaseModel

from voxify.domain.runtime_config import ConfigUpdate, RuntimeConfig
from voxify.observability import logger
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


def update_runtime_config(update: ConfigUpdate, admin_id: str) -> RuntimeConfig:
    """Save the changed limits; turning output watermarking off or on is logged with who did it."""
    repository = RuntimeConfigRepository()
    before = repository.current().watermark_outputs
    config = repository.update(update.model_dump(exclude_none=True))
    if config.watermark_outputs != before:
        state = "on" if config.watermark_outputs else "off"
        logger.warning(f"output watermarking turned {state}", extra={"admin_user_id": admin_id})
    return config
