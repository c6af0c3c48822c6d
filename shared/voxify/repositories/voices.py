"""Voice samples and voice clones, each listed per owner through gsi1."""

from __future__ import annotations

from typing import Any

from voxify.clock import now_iso
from voxify.repositories.base import TableRepository, strip_keys


class _OwnedRecords(TableRepository):
    """Records of one kind, keyed by id and listed per owner."""

    kind = ""
    id_field = ""

    def create(self, record: dict[str, Any]) -> None:
        self._put({
            "pk": f"{self.kind}#{record[self.id_field]}", "sk": self.kind,
            "gsi1pk": f"USER#{record['user_id']}#{self.kind}S", "gsi1sk": record["created_at"],
            **record,
        })

    def get(self, record_id: str) -> dict[str, Any] | None:
        item = self._get(f"{self.kind}#{record_id}", self.kind)
        return strip_keys(item) if item else None

    def get_owned(self, record_id: str, user_id: str) -> dict[str, Any] | None:
        """The record, or None when absent or owned by someone else (callers answer 404)."""
        item = self.get(record_id)
        return item if item and item["user_id"] == user_id else None

    def list_for(self, user_id: str) -> list[dict[str, Any]]:
        return [strip_keys(i) for i in self._query_index("gsi1", f"USER#{user_id}#{self.kind}S")]

    def update(self, record_id: str, changes: dict[str, Any],
               expected_status: list[str] | None = None) -> dict[str, Any] | None:
        """Set fields; with `expected_status`, only from those states (None otherwise)."""
        condition, names, values = "attribute_exists(pk)", {}, {}
        if expected_status:
            names["#status"] = "status"
            values = {f":s{i}": s for i, s in enumerate(expected_status)}
            condition += " AND #status IN (" + ", ".join(values) + ")"
        item = self._set_fields(f"{self.kind}#{record_id}", self.kind,
                                {**changes, "updated_at": now_iso()}, condition, values, names)
        return strip_keys(item) if item else None

    def delete(self, record_id: str) -> None:
        self._delete(f"{self.kind}#{record_id}", self.kind)


class SampleRepository(_OwnedRecords):
    kind = "SAMPLE"
    id_field = "sample_id"


class CloneRepository(_OwnedRecords):
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
