"""`answer_search`: the voices most like a clone or an uploaded clip, among the user's own.

The answer leaves out the clone searched by and its samples, names each voice once (a clone,
not also the samples it is made of), and leaves out voices deleted since they were indexed
(they linger in the index until their `forget` work runs).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from voxify.domain.voices import CloneRecord, SampleRecord, SearchRecord, SearchStatus
from voxify.observability import logger
from voxify.queue import WorkMessage
from voxify.settings import get_settings
from voxify_worker.audio import AudioError, decode_isolated
from voxify_worker.runtime.consumer import Delivery
from voxify_worker.work.voice_context import VoiceContext, VoiceGone, clone_embedding

CANDIDATES_PER_RESULT = 3  # rows fetched per answer wanted: some collapse into their clone


def answer_search(work: WorkMessage, delivery: Delivery, ctx: VoiceContext) -> None:
    logger.thread_safe_append_keys(search_id=work.id)
    search = ctx.searches.get(work.id)
    if search is None or search.status != SearchStatus.PENDING:
        return
    try:
        vector, excluded = _search_vector(search, ctx)
    except (AudioError, VoiceGone) as error:
        ctx.searches.finish(work.id, {"status": SearchStatus.FAILED.value, "error": f"{error.code.value}: {error}"})
        return
    finally:
        if search.clip_key:
            ctx.store.delete_prefix(search.clip_key)
    rows = ctx.index.nearest(
        vector, CANDIDATES_PER_RESULT * search.k + len(excluded), user_id=search.user_id, model=ctx.encoder.model
    )
    results = _distinct_voices([row for row in rows if row["voice_id"] not in excluded], ctx)
    ctx.searches.finish(
        work.id,
        {"status": SearchStatus.COMPLETED.value, "results": results[: search.k], "embedding_model": ctx.encoder.model},
    )


def _search_vector(search: SearchRecord, ctx: VoiceContext) -> tuple[np.ndarray, set[str]]:
    """What to search by, and the voices not to answer with (the clone itself, its samples)."""
    if search.source.startswith("clone:"):
        clone = ctx.clones.get(search.source.removeprefix("clone:"))
        if clone is None:
            raise VoiceGone("the clone was deleted")
        vector = ctx.index.vector(clone.clone_id)
        if vector is None:
            vector = clone_embedding(clone, ctx)
        return vector, {clone.clone_id, *clone.sample_ids}
    if search.clip_key is None:
        raise VoiceGone("the search names neither a clone nor a clip")
    audio, rate = decode_isolated(ctx.store.get(search.clip_key), get_settings().max_search_clip_seconds)
    return ctx.encoder.embed(audio, rate), set()


def _distinct_voices(rows: list[dict[str, Any]], ctx: VoiceContext) -> list[dict[str, Any]]:
    """Each voice once, most similar first: a sample that a listed clone is made of is that
    clone's voice (a one-sample clone and its sample embed alike), and voices deleted since
    they were indexed (they linger until their `forget` work runs) are left out."""
    records = {row["voice_id"]: _record(row, ctx) for row in rows}
    in_clones = {
        sample for record in records.values() if isinstance(record, CloneRecord) for sample in record.sample_ids
    }
    return [
        {key: row[key] for key in ("voice_id", "kind", "name", "similarity")}
        for row in rows
        if records[row["voice_id"]] is not None and row["voice_id"] not in in_clones
    ]


def _record(row: dict[str, Any], ctx: VoiceContext) -> CloneRecord | SampleRecord | None:
    return ctx.clones.get(row["voice_id"]) if row["kind"] == "clone" else ctx.samples.get(row["voice_id"])
