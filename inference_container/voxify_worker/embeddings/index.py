"""`VoiceIndex`: speaker embeddings in LanceDB, on the audio bucket's `vectors/` prefix.

One table, one row per voice (a sample or a clone) carrying its owner, kind, name and the
embedding model, so a search can be limited to one user's voices, or to other users' voices
for the impersonation guard. LanceDB runs in process over S3 (or a local folder): no server.

The guard asks `at_least`: every other user's voice at or above a similarity, however many,
found with a filtered distance-bounded query rather than a fixed top-k that look-alike rows
could fill.

Searches are exact (no ANN index): at tens of thousands of 256-d vectors a full scan takes
milliseconds (bench/vector_search.py), and exact answers keep the guard deterministic.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

import lancedb
import numpy as np
import pyarrow as pa

from voxify.aws import current_credentials
from voxify.clock import now_iso
from voxify.observability import logger
from voxify.settings import Settings, get_settings
from voxify_worker.embeddings.encoder import EMBEDDING_SIZE

T = TypeVar("T")
TABLE = "voices"
FIRST_PAGE = 32  # rows per query vector in `at_least`'s first try; each further try asks 8x more
SCHEMA = pa.schema(
    [
        pa.field("voice_id", pa.string()),
        pa.field("user_id", pa.string()),
        pa.field("kind", pa.string()),  # "sample" or "clone"
        pa.field("name", pa.string()),
        pa.field("model", pa.string()),
        pa.field("created_at", pa.string()),
        pa.field("vector", pa.list_(pa.float32(), EMBEDDING_SIZE)),
    ]
)


def storage_options(settings: Settings) -> dict[str, str]:
    """Credentials come from the usual AWS chain, or from `voxify.aws.acting_as` where a
    caller acts as a role (LanceDB's own S3 client does not see boto3's); an emulator needs
    its endpoint named."""
    options = {"aws_region": settings.region}
    acting = current_credentials()
    if acting is not None:
        options |= {"aws_access_key_id": acting.access_key_id, "aws_secret_access_key": acting.secret_access_key}
        options |= {"aws_session_token": acting.session_token} if acting.session_token else {}
    if settings.aws_endpoint_url:
        options |= {
            "aws_endpoint": settings.aws_endpoint_url,
            "allow_http": "true",
            "aws_virtual_hosted_style_request": "false",
        }
    return options


def _quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _filters(
    user_id: str | None = None,
    other_than_user: str | None = None,
    kinds: tuple[str, ...] = (),
    model: str | None = None,
) -> str | None:
    filters = []
    if user_id is not None:
        filters.append(f"user_id = {_quoted(user_id)}")
    if other_than_user is not None:
        filters.append(f"user_id != {_quoted(other_than_user)}")
    if kinds:
        filters.append(f"kind IN ({', '.join(_quoted(kind) for kind in kinds)})")
    if model is not None:
        filters.append(f"model = {_quoted(model)}")
    return " AND ".join(filters) or None


def _result(row: dict[str, Any]) -> dict[str, Any]:
    return {
        **{key: row[key] for key in ("voice_id", "user_id", "kind", "name", "model")},
        "similarity": round(1.0 - float(row["_distance"]), 4),
    }


class VoiceIndex:
    """Upserts, deletes and nearest-voice queries. Writes are serialised within a process;
    LanceDB's commit protocol orders writers in different processes."""

    def __init__(self, uri: str | None = None) -> None:
        settings = get_settings()
        self._uri = uri or settings.vector_store_uri
        self._options = storage_options(settings) if self._uri.startswith("s3://") else {}
        self._table: Any = None
        self._lock = threading.Lock()

    def _open(self) -> Any:
        with self._lock:
            if self._table is None:
                db = lancedb.connect(self._uri, storage_options=self._options)
                self._table = db.create_table(TABLE, schema=SCHEMA, exist_ok=True)
            return self._table

    def _run(self, operation: Callable[[Any], T], *, write: bool = False) -> T:
        """Run against the latest version of the table. A failure drops the cached handle
        and tries once more with a fresh one: the store behind it may have been restored
        or recreated (an emulator restart) since it was opened."""
        for attempt in (1, 2):
            table = self._open()
            try:
                if write:
                    with self._lock:
                        return operation(table)
                table.checkout_latest()
                return operation(table)
            except Exception:
                if attempt == 2:
                    raise
                logger.warning("voice index reopened after an error", exc_info=True)
                with self._lock:
                    self._table = None
        raise AssertionError("unreachable")

    def upsert(self, voice_id: str, user_id: str, kind: str, name: str, model: str, vector: np.ndarray) -> None:
        row = {
            "voice_id": voice_id,
            "user_id": user_id,
            "kind": kind,
            "name": name,
            "model": model,
            "created_at": now_iso(),
            "vector": np.asarray(vector, dtype=np.float32).tolist(),
        }
        self._run(
            lambda table: (
                table.merge_insert("voice_id")
                .when_matched_update_all()
                .when_not_matched_insert_all()
                .execute(pa.Table.from_pylist([row], schema=SCHEMA))
            ),
            write=True,
        )

    def add_many(self, rows: list[dict[str, Any]]) -> None:
        """Bulk insert (benchmarks, re-indexing); rows carry every schema field."""
        self._run(lambda table: table.add(pa.Table.from_pylist(rows, schema=SCHEMA)), write=True)

    def delete(self, voice_id: str) -> None:
        self._run(lambda table: table.delete(f"voice_id = {_quoted(voice_id)}"), write=True)

    def vector(self, voice_id: str) -> np.ndarray | None:
        rows = self._run(lambda table: table.search().where(f"voice_id = {_quoted(voice_id)}").limit(1).to_list())
        return np.asarray(rows[0]["vector"], dtype=np.float32) if rows else None

    def nearest(
        self,
        vector: np.ndarray,
        k: int,
        *,
        user_id: str | None = None,
        other_than_user: str | None = None,
        kind: str | None = None,
        model: str | None = None,
    ) -> list[dict[str, Any]]:
        """Up to k rows, most similar first, each with `similarity` (cosine, -1..1)."""
        where = _filters(user_id, other_than_user, (kind,) if kind else (), model)

        def search(table: Any) -> list[dict[str, Any]]:
            query = table.search(np.asarray(vector, dtype=np.float32)).distance_type("cosine").limit(k)
            rows: list[dict[str, Any]] = (query.where(where, prefilter=True) if where else query).to_list()
            return rows

        return [_result(row) for row in self._run(search)]

    def at_least(
        self,
        vectors: list[np.ndarray],
        min_similarity: float,
        *,
        other_than_user: str | None = None,
        kinds: tuple[str, ...] = (),
        model: str | None = None,
    ) -> list[list[dict[str, Any]]]:
        """For each vector, every row at or above `min_similarity` (most similar first), with
        no cap on how many: one filtered, distance-bounded query for all the vectors, asked
        again for more rows while any vector's answer fills the page."""
        if not vectors:
            return []
        where = _filters(None, other_than_user, kinds, model)
        probes = np.stack([np.asarray(v, dtype=np.float32) for v in vectors])
        # [lower, upper) in cosine distance; the rounded similarity decides at the edge.
        upper = 1.0 - min_similarity + 1e-4
        limit = FIRST_PAGE
        while True:

            def search(table: Any, limit: int = limit) -> list[dict[str, Any]]:
                query = table.search(probes).distance_type("cosine").distance_range(upper_bound=upper).limit(limit)
                rows: list[dict[str, Any]] = (query.where(where, prefilter=True) if where else query).to_list()
                return rows

            answers: list[list[dict[str, Any]]] = [[] for _ in vectors]
            for row in self._run(search):
                answers[int(row.get("query_index", 0))].append(row)
            if all(len(answer) < limit for answer in answers):
                return [
                    sorted(
                        (r for r in map(_result, answer) if r["similarity"] >= min_similarity),
                        key=lambda r: -float(r["similarity"]),
                    )
                    for answer in answers
                ]
            limit *= 8
