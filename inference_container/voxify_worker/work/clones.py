"""`process_clone`: a new voice clone is embedded and checked against impersonation.

The guard compares a new clone with other users' *ready* clones only: a voice someone else
was refused (or is still waiting on) must not block its real owner. A clone that matches is
held in `needs_review`; the owner sees the code and the score, only admins see whose voice
it resembles.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from voxify.clock import now_iso
from voxify.domain.voices import CloneRecord, CloneStatus
from voxify.errors import ErrorCode
from voxify.observability import logger
from voxify.queue import WorkMessage
from voxify.settings import get_settings
from voxify_worker.audio import AudioError
from voxify_worker.runtime.consumer import Delivery
from voxify_worker.work.voice_context import VoiceContext, VoiceGone, clone_embedding

GUARD_CANDIDATES = 5


def process_clone(work: WorkMessage, delivery: Delivery, ctx: VoiceContext) -> None:
    logger.append_keys(clone_id=work.id)
    clone = ctx.clones.get(work.id)
    if clone is None or clone.status != CloneStatus.PROCESSING:
        logger.info("clone gone or already decided; nothing to do")
        return
    try:
        vector = clone_embedding(clone, ctx)
    except (AudioError, VoiceGone) as error:
        ctx.events.announce(
            ctx.clones.set_status(
                work.id,
                CloneStatus.REJECTED,
                {"review": {"code": error.code.value, "reason": str(error), "flagged_at": now_iso()}},
                expected_status=[CloneStatus.PROCESSING],
            )
        )
        return
    match = _impersonated_voice(clone, vector, ctx)
    ctx.index.upsert(clone.clone_id, clone.user_id, "clone", clone.name, ctx.encoder.model, vector)
    changes: dict[str, Any] = {"embedding_model": ctx.encoder.model}
    status = CloneStatus.READY
    if match is not None:
        status = CloneStatus.NEEDS_REVIEW
        changes["review"] = {
            "code": ErrorCode.POSSIBLE_IMPERSONATION.value,
            "similarity": match["similarity"],
            "threshold": get_settings().impersonation_threshold,
            "flagged_at": now_iso(),
            "reason": "the voice matches another user's voice clone",
        }
        changes["review_match"] = {"clone_id": match["voice_id"], "user_id": match["user_id"]}
    ctx.events.announce(ctx.clones.set_status(work.id, status, changes, expected_status=[CloneStatus.PROCESSING]))
    logger.info("clone processed", extra={"status": status.value, "similarity": match["similarity"] if match else None})


def _impersonated_voice(clone: CloneRecord, vector: np.ndarray, ctx: VoiceContext) -> dict[str, Any] | None:
    """The most similar ready clone of another user at or above the threshold, if any."""
    threshold = get_settings().impersonation_threshold
    for candidate in ctx.index.nearest(
        vector, GUARD_CANDIDATES, other_than_user=clone.user_id, kind="clone", model=ctx.encoder.model
    ):
        if candidate["similarity"] < threshold:
            return None
        other = ctx.clones.get(candidate["voice_id"])
        if other is not None and other.status == CloneStatus.READY:
            return candidate
    return None
