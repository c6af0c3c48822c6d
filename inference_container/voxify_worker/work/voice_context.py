"""What every piece of voice work shares: the `VoiceContext` (repositories, store, speaker
encoder, voice index, events) and the embeddings of stored samples and clones.

Samples, clones, searches, forgetting and a job's `speaker_similarity` all run against it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from botocore.exceptions import ClientError

from voxify.domain.voices import CloneRecord, SampleRecord
from voxify.errors import CodedError, ErrorCode
from voxify.events import EventPublisher
from voxify.repositories.searches import SearchRepository
from voxify.repositories.voices import CloneRepository, SampleRepository
from voxify.storage import AudioStore
from voxify_worker.audio import decode
from voxify_worker.embeddings.encoder import SpeakerEncoder, mean_embedding, similarity
from voxify_worker.embeddings.index import VoiceIndex


class VoiceGone(CodedError):
    """The voice a piece of work names was deleted before the work ran (VOICE_NOT_FOUND)."""

    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.VOICE_NOT_FOUND, message)


@dataclass
class VoiceContext:
    samples: SampleRepository
    clones: CloneRepository
    searches: SearchRepository
    store: AudioStore
    encoder: SpeakerEncoder
    index: VoiceIndex
    events: EventPublisher


def sample_embedding(sample: SampleRecord, ctx: VoiceContext) -> np.ndarray:
    """The sample's stored embedding, or one made now from its normalised audio (for samples
    processed before embeddings existed, or whose row was lost)."""
    vector = ctx.index.vector(sample.sample_id)
    if vector is not None:
        return vector
    audio, rate = decode(ctx.store.get(sample.normalized_key or sample.original_key))
    vector = ctx.encoder.embed(audio, rate)
    ctx.index.upsert(sample.sample_id, sample.user_id, "sample", sample.name, ctx.encoder.model, vector)
    return vector


def clone_samples(clone: CloneRecord, ctx: VoiceContext) -> list[SampleRecord]:
    """The clone's samples that still exist, in the clone's order."""
    samples = [ctx.samples.get(sample_id) for sample_id in clone.sample_ids]
    present = [s for s in samples if s is not None]
    if not present:
        raise VoiceGone("none of the clone's samples exist any more")
    return present


def clone_embedding(clone: CloneRecord, ctx: VoiceContext) -> np.ndarray:
    """The clone's voice: the normalised mean of its samples' embeddings."""
    return mean_embedding([sample_embedding(s, ctx) for s in clone_samples(clone, ctx)])


def reference_embedding(key: str, ctx: VoiceContext) -> np.ndarray | None:
    """The speaker embedding of a stored reference file: the very bytes an engine decodes
    and speaks from (work/references.py), not the whole upload it was cut from. None when
    the file is gone."""
    try:
        data = ctx.store.get(key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise
    audio, rate = decode(data)
    return ctx.encoder.embed(audio, rate)


def speaker_similarity(audio: np.ndarray, rate: int, clone_id: str, ctx: VoiceContext) -> float | None:
    """Cosine similarity of synthesized audio to its clone's voice; None for unembedded clones."""
    voice = ctx.index.vector(clone_id)
    if voice is None:
        return None
    return round(similarity(ctx.encoder.embed(audio, rate), voice), 4)
