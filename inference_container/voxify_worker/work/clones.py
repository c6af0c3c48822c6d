"""`process_clone`: a new voice clone is embedded and checked against impersonation.

The guard judges what will be spoken and everything the clone was built from: the clone's
reference file (the very audio the engines speak from, work/references.py), each of its
samples whole and each sample's own reference segment, and the clone's mean voice. Each is
compared with every other user's voice at or above the threshold, found by a filtered,
distance-bounded query (no fixed top-k for look-alike rows to fill):

- other users' clones count when `ready`: a voice someone else was refused (or is still
  waiting on) must not block its real owner. A refused or deleted clone met on the way is
  dropped from the index.
- other users' samples count too, so a voice uploaded but never cloned is protected, except
  samples that one of their owner's held or refused clones is made of (the same rule).

A verified voice (its owner read a challenge in it: work/verification.py) is protected without
exception: another account's clone that resembles it at `SAME_SPEAKER_SIMILARITY` or above is
held whatever the guard's threshold is set to, so no setting that lets other look-alikes
through lets these through.

A clone that matches is held in `needs_review`: a matching clone is named in preference to a
matching sample. The owner sees the code and the score, only admins see whose voice it
resembles. The clone's own row stays in the index while it is held: an admin approves it in
the API, without the worker, and an approved clone must be found by later checks.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from voxify.clock import now_iso
from voxify.domain.voices import CloneRecord, CloneStatus, SampleRecord, SampleStatus
from voxify.errors import ErrorCode
from voxify.observability import logger
from voxify.queue import WorkMessage
from voxify.settings import get_settings
from voxify_worker.audio import AudioError
from voxify_worker.embeddings.encoder import SAME_SPEAKER_SIMILARITY, mean_embedding
from voxify_worker.runtime.consumer import Delivery
from voxify_worker.work.voice_context import (
    VoiceContext,
    VoiceGone,
    clone_samples,
    reference_embedding,
    sample_embedding,
)

DISPUTED = (CloneStatus.NEEDS_REVIEW, CloneStatus.REJECTED)


@dataclass(frozen=True)
class Probe:
    """One piece of the clone's audio, embedded; `what` names it for admins and logs."""

    what: str
    vector: np.ndarray


@dataclass(frozen=True)
class Match:
    voice_id: str
    user_id: str
    kind: str  # "clone" or "sample"
    similarity: float
    probe: str  # which Probe matched
    verified: bool = False  # a verified voice's clone: held for at the fixed threshold

    def described(self) -> str:
        return "verified voice" if self.verified else f"voice {self.kind}"

    def review_match(self) -> dict[str, Any]:
        return {
            f"{self.kind}_id": self.voice_id,
            "user_id": self.user_id,
            "matched_audio": self.probe,
            "verified_voice": self.verified,
        }


def process_clone(work: WorkMessage, delivery: Delivery, ctx: VoiceContext) -> None:
    logger.thread_safe_append_keys(clone_id=work.id)
    clone = ctx.clones.get(work.id)
    if clone is None or clone.status != CloneStatus.PROCESSING:
        logger.info("clone gone or already decided; nothing to do")
        return
    try:
        samples = clone_samples(clone, ctx)
        embeddings = {s.sample_id: sample_embedding(s, ctx) for s in samples}
        vector = mean_embedding(list(embeddings.values()))
        embedded = time.perf_counter()
        probes = _probes(clone, samples, embeddings, vector, ctx)
    except (AudioError, VoiceGone) as error:
        ctx.index.delete(work.id)  # an earlier, interrupted attempt may have indexed it
        ctx.events.announce(
            ctx.clones.set_status(
                work.id,
                CloneStatus.REJECTED,
                {"review": {"code": error.code.value, "reason": str(error), "flagged_at": now_iso()}},
                expected_status=[CloneStatus.PROCESSING],
            )
        )
        return
    probed = time.perf_counter()
    match = _impersonated_voice(clone, probes, ctx)
    timings = {"probes_ms": round((probed - embedded) * 1000), "guard_ms": round((time.perf_counter() - probed) * 1000)}
    ctx.index.upsert(clone.clone_id, clone.user_id, "clone", clone.name, ctx.encoder.model, vector)
    changes: dict[str, Any] = {"embedding_model": ctx.encoder.model}
    status = CloneStatus.READY
    if match is not None:
        status = CloneStatus.NEEDS_REVIEW
        changes["review"] = {
            "code": ErrorCode.POSSIBLE_IMPERSONATION.value,
            "similarity": match.similarity,
            "threshold": _threshold_for(match),
            "flagged_at": now_iso(),
            "reason": f"the voice matches another user's {match.described()}",
        }
        changes["review_match"] = match.review_match()
    ctx.events.announce(ctx.clones.set_status(work.id, status, changes, expected_status=[CloneStatus.PROCESSING]))
    logger.info(
        "clone processed",
        extra={
            "status": status.value,
            "similarity": match.similarity if match else None,
            "matched_audio": match.probe if match else None,
            "probes": len(probes),
            **timings,
        },
    )


def _probes(
    clone: CloneRecord,
    samples: list[SampleRecord],
    embeddings: dict[str, np.ndarray],
    vector: np.ndarray,
    ctx: VoiceContext,
) -> list[Probe]:
    """What the guard compares: the reference the engines will speak from (the clone must
    have it), the mean voice, and every sample whole and by its reference segment."""
    spoken = reference_embedding(clone.reference_key, ctx)
    if spoken is None:
        raise VoiceGone("the clone's reference audio is gone")
    probes = [Probe("reference", spoken), Probe("clone", vector)]
    for sample in samples:
        probes.append(Probe(f"sample {sample.sample_id}", embeddings[sample.sample_id]))
        key = sample.reference_key
        if key and key != clone.reference_key:
            segment = reference_embedding(key, ctx)
            if segment is not None:
                probes.append(Probe(f"reference of {sample.sample_id}", segment))
    return probes


def _threshold_for(match: Match) -> float:
    """The similarity at which `match` holds a clone: the guard's setting, or for a verified
    voice at most the fixed same-speaker similarity."""
    threshold = get_settings().impersonation_threshold
    return min(threshold, SAME_SPEAKER_SIMILARITY) if match.verified else threshold


def _impersonated_voice(clone: CloneRecord, probes: list[Probe], ctx: VoiceContext) -> Match | None:
    """The most similar other user's clone that holds this one (a ready clone at or above the
    threshold, or a verified one at or above the same-speaker similarity), else the most
    similar other user's sample that counts; None when nothing does."""
    threshold = get_settings().impersonation_threshold
    answers = ctx.index.at_least(
        [p.vector for p in probes],
        min(threshold, SAME_SPEAKER_SIMILARITY),
        other_than_user=clone.user_id,
        kinds=("clone", "sample"),
        model=ctx.encoder.model,
    )
    best: dict[str, Match] = {}
    for probe, rows in zip(probes, answers, strict=True):
        for row in rows:
            known = best.get(row["voice_id"])
            if known is None or row["similarity"] > known.similarity:
                best[row["voice_id"]] = Match(
                    row["voice_id"], row["user_id"], row["kind"], float(row["similarity"]), probe.what
                )
    disputed: dict[str, set[str]] = {}
    for match in sorted(best.values(), key=lambda m: (m.kind != "clone", -m.similarity)):
        counted = _counted(match, threshold, ctx, disputed)
        if counted is not None:
            return counted
    return None


def _counted(match: Match, threshold: float, ctx: VoiceContext, disputed: dict[str, set[str]]) -> Match | None:
    """The match, if another user's voice may hold this clone (marked when it is a verified
    voice); rows of voices deleted, or clones refused, leave the index here (their `forget`
    work may have been lost or never sent)."""
    if match.kind == "clone":
        other = ctx.clones.get(match.voice_id)
        if other is None or other.status == CloneStatus.REJECTED:
            ctx.index.delete(match.voice_id)
            return None
        if other.verified:
            return replace(match, verified=True)
        return match if other.status == CloneStatus.READY and match.similarity >= threshold else None
    return match if match.similarity >= threshold and _sample_counts(match, ctx, disputed) else None


def _sample_counts(match: Match, ctx: VoiceContext, disputed: dict[str, set[str]]) -> bool:
    """Whether another user's sample protects its voice: not when refused, nor when one of
    its owner's held or refused clones is made of it."""
    sample = ctx.samples.get(match.voice_id)
    if sample is None:
        ctx.index.delete(match.voice_id)
        return False
    if sample.status == SampleStatus.REJECTED:
        return False
    if match.user_id not in disputed:
        disputed[match.user_id] = {
            sample_id
            for other in ctx.clones.list_for(match.user_id)
            if other.status in DISPUTED
            for sample_id in other.sample_ids
        }
    return match.voice_id not in disputed[match.user_id]
