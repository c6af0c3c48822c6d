"""Similar-voice searches (pk `SEARCH#{id}`): short-lived records the worker answers.

A search needs the speaker encoder and the vector index, which live in the worker, so the
API writes a pending record, queues it, and reads the answer back. Records expire after a day.
"""

from __future__ import annotations

import time
from typing import Any

from voxify.repositories.base import TableRepository, strip_keys

SEARCH_TTL_SECONDS = 24 * 3600


class SearchRepository(TableRepository):
    def create(self, record: dict[str, Any]) -> None:
        self._put({"pk": f"SEARCH#{record['search_id']}", "sk": "SEARCH",
                   "expires_at": int(time.time()) + SEARCH_TTL_SECONDS, **record})

    def get(self, search_id: str) -> dict[str, Any] | None:
        item = self._get(f"SEARCH#{search_id}", "SEARCH")
        return strip_keys(item) if item else None

    def delete(self, search_id: str) -> None:
        self._delete(f"SEARCH#{search_id}", "SEARCH")

    def finish(self, search_id: str, changes: dict[str, Any]) -> dict[str, Any] | None:
        """Record the answer once; a duplicate delivery finds the search no longer pending."""
        item = self._set_fields(f"SEARCH#{search_id}", "SEARCH", changes,
                                "attribute_exists(pk) AND #status = :pending",
                                {":pending": "pending"}, {"#status": "status"})
        return strip_keys(item) if item else None
