"""`answer_search`: the voices most like a clone or an uploaded clip, among the user's own.

The answer leaves out the clone searched by and its samples, and voices deleted since they
were indexed (they linger in the index until their `forget` work runs).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from voxify.domain.voices import SearchRecord, SearchStatus
from voxify.observability import logger
from voxify.queue import WorkMessage
from voxify.settings import get_settings
from voxify_worker.audio import AudioError, decode_isolated
from voxify_worker.runtime.consumer import Delivery
from voxify_worker.work.voice_context import VoiceContext, VoiceGone, clone_embedding


def answer_search(work: WorkMessage, delivery: Delivery, ctx: VoiceContext) -> None:
    logger.append_keys(search_id=work.id)
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
    results = []
    for row in ctx.index.nearest(vector, search.k + len(excluded), user_id=search.user_id, model=ctx.encoder.model):
        if row["voice_id"] in excluded or not _still_exists(row, ctx):
            continue
        results.append({key: row[key] for key in ("voice_id", "kind", "name", "similarity")})
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


def _still_exists(row: dict[str, Any], ctx: VoiceContext) -> bool:
    """Deleted voices may linger in the index until their `forget` work runs."""
    repository = ctx.clones if row["kind"] == "clone" else ctx.samples
    return repository.get(row["voice_id"]) is not None
