"""Voice samples and voice clones, each listed per owner through gsi1."""

from __future__ import annotations

from typing import Any

from voxify.clock import now_iso
from voxify.repositories.base import OwnedRecords, strip_keys


class SampleRepository(OwnedRecords):
    kind = "SAMPLE"
    id_field = "sample_id"


class CloneRepository(OwnedRecords):
    """Clones; also listed per state through gsi2 so admins find those held for review."""

    kind = "CLONE"
    id_field = "clone_id"

    def create(self, record: dict[str, Any]) -> None:
        super().create({**record, **_state_keys(record["status"], record["created_at"])})

    def set_status(self, clone_id: str, status: str, changes: dict[str, Any] | None = None,
                   expected_status: list[str] | None = None) -> dict[str, Any] | None:
        """Move to `status` (from one of `expected_status`, if given); None when not moved."""
        return self.update(clone_id, {**(changes or {}), "status": status, **_state_keys(status, now_iso())},
                           expected_status=expected_status)

    def list_in_state(self, status: str) -> list[dict[str, Any]]:
        return [strip_keys(i) for i in self._query_index("gsi2", f"CLONESTATE#{status}", newest_first=False)]


def _state_keys(status: str, at: str) -> dict[str, str]:
    return {"gsi2pk": f"CLONESTATE#{status}", "gsi2sk": at}
