"""A streaming job's audio, handed to the API a sentence at a time while the rest is made.

The streaming routes ask for a job with `config.stream`. For such a job the worker, besides
making the whole file as for any job, takes each chunk the engine hands over (a sentence; an
F5 batch), post-processes it (pitch, loudness, volume, limiter), resamples it, watermarks it
as whole outputs are, encodes it so that the chunks join into one stream
(audio/stream_encode.py), and stores it as `stream/NNNNN.part` under the attempt's prefix,
tagged for the bucket's lifecycle to expire a day later.
After each chunk the job item's `stream` record says how many exist (`ended` after the
last): the API follows that record and forwards the chunks. That write is conditional on the
claim like a progress report, so a cancelled job (the listener went away) stops at the next
chunk.
"""

from __future__ import annotations

import numpy as np

from voxify.domain.jobs import JobRecord, StreamProgress
from voxify.repositories.jobs import JobRepository
from voxify.storage import STREAM_CHUNK_TAGS, AudioStore, stream_chunk_key
from voxify_worker.audio import postprocess, resample
from voxify_worker.audio.stream_encode import StreamEncoder
from voxify_worker.audio.watermark import Watermarker
from voxify_worker.engines.base import SynthesisCancelled

CHUNK_CONTENT_TYPE = "application/octet-stream"  # a piece of a stream, not a playable file


class ChunkWriter:
    """One streaming job's chunks, in order, across all its blocks."""

    def __init__(
        self,
        job: JobRecord,
        jobs: JobRepository,
        store: AudioStore,
        worker_id: str,
        marker: Watermarker | None,
    ) -> None:
        self._job, self._jobs, self._store, self._worker_id, self._marker = job, jobs, store, worker_id, marker
        self._encoder = StreamEncoder(job.output_format, job.sample_rate)
        self._chunks = 0

    def speech(self, samples: np.ndarray, rate: int) -> None:
        """An engine chunk (`samples` at `rate`): made ready as whole outputs are, then sent.
        Fits `ChunkCallback`."""
        job = self._job
        if not samples.size:
            return
        ready = resample(
            postprocess(samples, rate, pitch_semitones=job.pitch_semitones, volume=job.volume), rate, job.sample_rate
        )
        if self._marker:
            ready = self._marker.mark(ready, job.sample_rate)
        self._send(self._encoder.add(ready))

    def pause(self, samples: np.ndarray) -> None:
        """Silence at the job's rate (a block's `wait_after_ms`), unmarked as in the whole file."""
        if samples.size:
            self._send(self._encoder.add(samples))

    def end(self) -> None:
        """The encoder's last bytes, and the record that the stream is complete."""
        self._send(self._encoder.end(), ended=True)

    def _send(self, body: bytes, ended: bool = False) -> None:
        if not body and not ended:
            return  # the encoder is still holding these samples
        job = self._job
        if body:
            self._store.put(
                stream_chunk_key(job.user_id, job.job_id, job.attempts, self._chunks),
                body,
                CHUNK_CONTENT_TYPE,
                tags=STREAM_CHUNK_TAGS,
            )
            self._chunks += 1
        progress = StreamProgress(attempt=job.attempts, chunks=self._chunks, ended=ended)
        if not self._jobs.report_stream(job.job_id, self._worker_id, progress):
            raise SynthesisCancelled(f"job {job.job_id} is no longer ours to stream")
