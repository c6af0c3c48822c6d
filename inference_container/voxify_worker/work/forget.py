"""`forget_voice`: a deleted sample or clone, or a clone an admin refused, leaves the voice
index, so no search or impersonation check can find it again, and the worker's memory of
decoded references."""

from __future__ import annotations

from voxify.queue import WorkMessage
from voxify_worker.runtime.consumer import Delivery
from voxify_worker.work.references import ReferenceCache
from voxify_worker.work.voice_context import VoiceContext


def forget_voice(work: WorkMessage, delivery: Delivery, ctx: VoiceContext, references: ReferenceCache) -> None:
    ctx.index.delete(work.id)
    references.forget(work.id)
