"""Voice work beside synthesis: embedding new clones (with the impersonation guard),
answering similar-voice searches, and forgetting deleted voices.

The guard compares a new clone with other users' *ready* clones only: a voice someone else
was refused (or is still waiting on) must not block its real owner. A clone that matches is
held in `needs_review`; the owner sees the code and the score, only admins see whose voice
it resembles.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from voxify.clock import now_iso
from voxify.domain.voices import CloneStatus
from voxify.events import EventPublisher
from voxify.observability import logger
from voxify.queue import WorkMessage
from voxify.repositories.searches import SearchRepository
from voxify.repositories.voices import CloneRepository, SampleRepository
from voxify.settings import get_settings
from voxify.storage import AudioStore

from voxify_worker.audio import AudioError, decode
from voxify_worker.consumer import Delivery
from voxify_worker.speakers import SpeakerEncoder, mean_embedding, similarity
from voxify_worker.vectors import VoiceIndex

IMPERSONATION_CODE = "POSSIBLE_IMPERSONATION"
GUARD_CANDIDATES = 5


class VoiceGone(Exception):
    """The voice a piece of work names was deleted before the work ran."""

    code = "VOICE_NOT_FOUND"


@dataclass
class VoiceContext:
    samples: SampleRepository
    clones: CloneRepository
    searches: SearchRepository
    store: AudioStore
    encoder: SpeakerEncoder
    index: VoiceIndex
    events: EventPublisher


def sample_embedding(sample: dict[str, Any], ctx: VoiceContext) -> np.ndarray:
    """The sample's stored embedding, or one made now from its normalised audio (for samples
    processed before embeddings existed, or whose row was lost)."""
    vector = ctx.index.vector(sample["sample_id"])
    if vector is not None:
        return vector
    audio, rate = decode(ctx.store.get(sample["normalized_key"] or sample["original_key"]))
    vector = ctx.encoder.embed(audio, rate)
    ctx.index.upsert(sample["sample_id"], sample["user_id"], "sample", sample["name"], ctx.encoder.model, vector)
    return vector


def clone_embedding(clone: dict[str, Any], ctx: VoiceContext) -> np.ndarray:
    """The clone's voice: the normalised mean of its samples' embeddings."""
    samples = [ctx.samples.get(sample_id) for sample_id in clone["sample_ids"]]
    present = [s for s in samples if s is not None]
    if not present:
        raise VoiceGone("none of the clone's samples exist any more")
    return mean_embedding([sample_embedding(s, ctx) for s in present])


def speaker_similarity(audio: np.ndarray, rate: int, clone_id: str, ctx: VoiceContext) -> float | None:
    """Cosine similarity of synthesized audio to its clone's voice; None for unembedded clones."""
    voice = ctx.index.vector(clone_id)
    if voice is None:
        return None
    return round(similarity(ctx.encoder.embed(audio, rate), voice), 4)


def process_clone(work: WorkMessage, delivery: Delivery, ctx: VoiceContext) -> None:
    logger.append_keys(clone_id=work.id)
    clone = ctx.clones.get(work.id)
    if clone is None or clone["status"] != CloneStatus.PROCESSING:
        logger.info("clone gone or already decided; nothing to do")
        return
    try:
        vector = clone_embedding(clone, ctx)
    except (AudioError, VoiceGone) as error:
        _announce(ctx, ctx.clones.set_status(
            work.id, CloneStatus.REJECTED.value,
            {"review": {"code": error.code, "reason": str(error), "flagged_at": now_iso()}},
            expected_status=[CloneStatus.PROCESSING.value]))
        return
    match = _impersonated_voice(clone, vector, ctx)
    ctx.index.upsert(clone["clone_id"], clone["user_id"], "clone", clone["name"], ctx.encoder.model, vector)
    changes: dict[str, Any] = {"embedding_model": ctx.encoder.model}
    status = CloneStatus.READY
    if match is not None:
        status = CloneStatus.NEEDS_REVIEW
        changes["review"] = {"code": IMPERSONATION_CODE, "similarity": match["similarity"],
                             "threshold": get_settings().impersonation_threshold, "flagged_at": now_iso(),
                             "reason": "the voice matches another user's voice clone"}
        changes["review_match"] = {"clone_id": match["voice_id"], "user_id": match["user_id"]}
    _announce(ctx, ctx.clones.set_status(work.id, status.value, changes,
                                         expected_status=[CloneStatus.PROCESSING.value]))
    logger.info("clone processed", extra={"status": status.value,
                                          "similarity": match["similarity"] if match else None})


def _announce(ctx: VoiceContext, clone: dict[str, Any] | None) -> None:
    if clone is not None:
        ctx.events.clone_changed(clone)


def _impersonated_voice(clone: dict[str, Any], vector: np.ndarray, ctx: VoiceContext) -> dict[str, Any] | None:
    """The most similar ready clone of another user at or above the threshold, if any."""
    threshold = get_settings().impersonation_threshold
    for candidate in ctx.index.nearest(vector, GUARD_CANDIDATES, other_than_user=clone["user_id"],
                                       kind="clone", model=ctx.encoder.model):
        if candidate["similarity"] < threshold:
            return None
        other = ctx.clones.get(candidate["voice_id"])
        if other is not None and other["status"] == CloneStatus.READY:
            return candidate
    return None


def answer_search(work: WorkMessage, delivery: Delivery, ctx: VoiceContext) -> None:
    logger.append_keys(search_id=work.id)
    search = ctx.searches.get(work.id)
    if search is None or search["status"] != "pending":
        return
    try:
        vector, excluded = _search_vector(search, ctx)
    except (AudioError, VoiceGone) as error:
        ctx.searches.finish(work.id, {"status": "failed", "error": f"{error.code}: {error}"})
        return
    finally:
        if search.get("clip_key"):
            ctx.store.delete_prefix(search["clip_key"])
    results = []
    for row in ctx.index.nearest(vector, search["k"] + len(excluded), user_id=search["user_id"],
                                 model=ctx.encoder.model):
        if row["voice_id"] in excluded or not _still_exists(row, ctx):
            continue
        results.append({key: row[key] for key in ("voice_id", "kind", "name", "similarity")})
    ctx.searches.finish(work.id, {"status": "completed", "results": results[:search["k"]],
                                  "embedding_model": ctx.encoder.model})


def _search_vector(search: dict[str, Any], ctx: VoiceContext) -> tuple[np.ndarray, set[str]]:
    """What to search by, and the voices not to answer with (the clone itself, its samples)."""
    if search["source"].startswith("clone:"):
        clone = ctx.clones.get(search["source"].removeprefix("clone:"))
        if clone is None:
            raise VoiceGone("the clone was deleted")
        vector = ctx.index.vector(clone["clone_id"])
        if vector is None:
            vector = clone_embedding(clone, ctx)
        return vector, {clone["clone_id"], *clone["sample_ids"]}
    audio, rate = decode(ctx.store.get(search["clip_key"]))
    return ctx.encoder.embed(audio, rate), set()


def _still_exists(row: dict[str, Any], ctx: VoiceContext) -> bool:
    """Deleted voices may linger in the index until their `forget` work runs."""
    repository = ctx.clones if row["kind"] == "clone" else ctx.samples
    return repository.get(row["voice_id"]) is not None


def forget_voice(work: WorkMessage, delivery: Delivery, ctx: VoiceContext) -> None:
    ctx.index.delete(work.id)
