"""Counts over the whole data table, for administrators' statistics.

A full scan: fine for an admin view on a small deployment; a large one would keep counters.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from voxify.repositories.base import TableRepository


@dataclass
class Inventory:
    records_by_kind: Counter[str] = field(default_factory=Counter)  # keyed by sort key: PROFILE, JOB, ...
    jobs_by_status: Counter[str] = field(default_factory=Counter)


class InventoryRepository(TableRepository):
    def count(self) -> Inventory:
        inventory = Inventory()
        for page in self._scan(ProjectionExpression="sk, #s", ExpressionAttributeNames={"#s": "status"}):
            for item in page:
                inventory.records_by_kind[item["sk"]] += 1
                if item["sk"] == "JOB":
                    inventory.jobs_by_status[item["status"]] += 1
        return inventory
