"""The worker's handlers by work kind, wired to their repositories, store and models.

`python -m voxify_worker` and the test harness both build them here, so tests drive
exactly what the container runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from voxify.events import EventPublisher
from voxify.repositories.jobs import JobRepository
from voxify.repositories.searches import SearchRepository
from voxify.repositories.verification import VerificationRepository
from voxify.repositories.voices import CloneRepository, SampleRepository
from voxify.repositories.watermarks import DetectionRepository
from voxify.storage import AudioStore
from voxify_worker.audio.watermark import Watermarker
from voxify_worker.embeddings.encoder import SpeakerEncoder
from voxify_worker.embeddings.index import VoiceIndex
from voxify_worker.engines.base import BatchingEngine, Engine
from voxify_worker.runtime.consumer import BatchHandler, WorkHandler
from voxify_worker.work.clones import process_clone
from voxify_worker.work.forget import forget_voice
from voxify_worker.work.references import ReferenceCache
from voxify_worker.work.samples import process_sample
from voxify_worker.work.searches import answer_search
from voxify_worker.work.synthesis import SynthesisContext, synthesize_job, synthesize_jobs
from voxify_worker.work.verification import VerificationContext, verify_voice
from voxify_worker.work.voice_context import VoiceContext
from voxify_worker.work.watermarks import WatermarkContext, check_watermark


@dataclass
class Wiring:
    synthesis: SynthesisContext
    voices: VoiceContext
    handlers: dict[str, WorkHandler]
    # kinds whose works received together are handled together (synthesis, with an engine
    # that speaks many jobs in one pass)
    batch_handlers: dict[str, BatchHandler]


def wire(engine: Engine, worker_id: str) -> Wiring:
    store = AudioStore()
    clones = CloneRepository()
    watermarker = Watermarker()
    events = EventPublisher()
    voices = VoiceContext(
        samples=SampleRepository(),
        clones=clones,
        searches=SearchRepository(),
        store=store,
        encoder=SpeakerEncoder(),
        index=VoiceIndex(),
        events=events,
    )
    synthesis = SynthesisContext(
        engine=engine,
        jobs=JobRepository(),
        store=store,
        references=ReferenceCache(store, clones),
        worker_id=worker_id,
        watermarker=watermarker,
        voices=voices,
    )
    handlers: dict[str, WorkHandler] = {
        "synthesis": partial(synthesize_job, ctx=synthesis),
        "sample": partial(process_sample, ctx=voices),
        "clone": partial(process_clone, ctx=voices),
        "search": partial(answer_search, ctx=voices),
        "forget": partial(forget_voice, ctx=voices, references=synthesis.references),
        "watermark": partial(check_watermark, ctx=WatermarkContext(DetectionRepository(), store, watermarker)),
        "verify": partial(verify_voice, ctx=VerificationContext(VerificationRepository(), voices, watermarker)),
    }
    batch_handlers: dict[str, BatchHandler] = {}
    if isinstance(engine, BatchingEngine):
        batch_handlers["synthesis"] = partial(synthesize_jobs, ctx=synthesis)
    return Wiring(synthesis, voices, handlers, batch_handlers)
