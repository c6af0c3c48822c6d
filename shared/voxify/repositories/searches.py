"""Similar-voice searches (pk `SEARCH#{id}`): short-lived records the worker answers.

A search needs the speaker encoder and the vector index, which live in the worker, so the
API writes a pending record, queues it, and reads the answer back. Records expire after a day.
"""

from __future__ import annotations

from voxify.clock import epoch
from voxify.domain.voices import SearchRecord, SearchStatus
from voxify.repositories.base import Fields, Item, OwnedRecords, stored

SEARCH_TTL_SECONDS = 24 * 3600


class SearchRepository(OwnedRecords[SearchRecord]):
    kind = "SEARCH"
    id_field = "search_id"
    record_type = SearchRecord

    def _item(self, record: SearchRecord, **keys: str) -> Item:
        """Searches are not listed per owner; they expire instead."""
        return {
            "pk": f"SEARCH#{record.search_id}",
            "sk": "SEARCH",
            "expires_at": epoch() + SEARCH_TTL_SECONDS,
            **stored(record),
        }

    def finish(self, search_id: str, changes: Fields) -> SearchRecord | None:
        """Record the answer once; a duplicate delivery finds the search no longer pending."""
        return self.update(search_id, changes, expected_status=[SearchStatus.PENDING])
