"""Similar-voice searches (pk `SEARCH#{id}`): short-lived records the worker answers.

A search needs the speaker encoder and the vector index, which live in the worker, so the
API writes a pending record, queues it, and reads the answer back. Records expire after a day.
"""

from __future__ import annotations

from voxify.domain.voices import SearchRecord
from voxify.repositories.base import AnsweredOnce


class SearchRepository(AnsweredOnce[SearchRecord]):
    kind = "SEARCH"
    id_field = "search_id"
    record_type = SearchRecord
