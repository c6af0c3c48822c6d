"""A streaming job's audio, handed to the API a sentence at a time while the rest is made.

The streaming routes ask for a job with `config.stream`. For such a job the worker, besides
making the whole file as for any job, takes each chunk the engine hands over (a sentence; an
F5 batch), post-processes it (pitch, loudness, volume, limiter: `BlockLevel` says how its
loudness follows the file's), resamples it, watermarks it as whole outputs are, encodes it
so that the chunks join into one stream (audio/stream_encode.py), and stores it as
`stream/NNNNN.part` under the attempt's prefix, tagged for the bucket's lifecycle to expire a
day later. The stream's very first audio leaves in two pieces, a short head first
(`head_first`), so that the first byte waits for the mark of half a second of audio rather
than of a whole sentence.
After each piece the job item's `stream` record says how many exist (`ended` after the
last): the API follows that record and forwards the pieces. That write is conditional on the
claim like a progress report, so a cancelled job (the listener went away) stops at the next
piece.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from scipy.ndimage import uniform_filter1d

from voxify.domain.jobs import JobRecord, StreamProgress
from voxify.repositories.jobs import JobRepository
from voxify.storage import STREAM_CHUNK_TAGS, AudioStore, stream_chunk_key
from voxify_worker.audio import DEFAULT_LUFS, concatenate, postprocess, resample
from voxify_worker.audio.process import loudness_gain
from voxify_worker.audio.stream_encode import StreamEncoder
from voxify_worker.audio.watermark import Watermarker
from voxify_worker.engines.base import SynthesisCancelled

CHUNK_CONTENT_TYPE = "application/octet-stream"  # a piece of a stream, not a playable file
# where the stream's first piece ends: at the quietest moment of this span (seconds)
HEAD_SECONDS = (0.5, 0.8)
# how much of a block sets its streamed level; later sentences keep the gain reached by then
LEVEL_WINDOW_SECONDS = 30.0
_QUIET_FRAME_SECONDS = 0.01


class BlockLevel:
    """A streamed block's loudness, set as the job's file sets it, as far as a stream can know.

    The file brings each whole block to the target loudness with one gain. A stream cannot
    wait for the whole block, so each chunk takes the gain that brings the block heard so far
    (this chunk included) to the target: the first sentence sets its own level, each later
    one is set by more of the block, and the last by all of it, which is the file's gain. The
    gain changes only between sentences (in their pause), by less as the block goes on, and
    the sentences keep the relative levels they have in the file. On the bundled voice
    reading five to seven sentences this kept the streamed audio within 0.15 LU of the
    file's loudness and every sentence after the first within 0.4 dB of its level in the
    file (the first, set alone, within 1.4 dB). The alternatives measured worse: setting
    each sentence by itself evens out levels the file keeps (sentences up to 2 dB off), and
    holding the first sentence's gain carries its error to the whole stream (up to 1.6 LU).
    After `LEVEL_WINDOW_SECONDS` of a block its level has settled, and the gain is held
    rather than measured again over ever more audio.
    """

    def __init__(self, target_lufs: float = DEFAULT_LUFS) -> None:
        self._target = target_lufs
        self._heard: list[np.ndarray] = []
        self._heard_samples = 0
        self._gain: float | None = None

    def __call__(self, samples: np.ndarray, rate: int) -> np.ndarray:
        """`samples` (the block's next chunk, at the block's one rate) at the block's level.
        Fits `postprocess`'s `level`."""
        if self._heard_samples < LEVEL_WINDOW_SECONDS * rate:
            self._heard.append(samples)
            self._heard_samples += samples.size
            self._gain = loudness_gain(concatenate(self._heard), rate, self._target)
        if self._gain is None:  # silence so far: nothing to set a level by
            return samples.astype(np.float32, copy=False)
        return (samples * self._gain).astype(np.float32)


def head_first(samples: np.ndarray, rate: int) -> list[np.ndarray]:
    """A stream's first audio as a short head and the rest, cut at the quietest 10 ms within
    `HEAD_SECONDS`. Marking costs time in proportion to the audio marked, so the head, marked
    and sent on its own, reaches the listener about a sentence's marking time sooner; the
    rest is marked while the head plays. Each piece carries the whole mark (the head alone
    reads as marked), and cutting where the speech is quietest keeps the join of two
    separately marked pieces inaudible. Audio too short for a head and a rest of its own
    goes whole."""
    earliest, latest = (round(seconds * rate) for seconds in HEAD_SECONDS)
    if samples.size < 2 * latest:
        return [samples]
    frame = max(1, round(_QUIET_FRAME_SECONDS * rate))
    power = uniform_filter1d(samples[earliest:latest].astype(np.float64) ** 2, frame)
    cut = earliest + int(np.argmin(power))
    return [samples[:cut], samples[cut:]]


class StreamAudio:
    """A streaming job's audio made ready piece by piece, exactly as whole outputs are (but
    for the level: `BlockLevel`), and encoded so that the pieces join into one stream."""

    def __init__(
        self,
        fmt: str,
        sample_rate: int,
        marker: Watermarker | None,
        *,
        pitch_semitones: float = 0.0,
        volume: float = 1.0,
    ) -> None:
        self._rate, self._marker = sample_rate, marker
        self._pitch, self._volume = pitch_semitones, volume
        self._encoder = StreamEncoder(fmt, sample_rate)
        self._level = BlockLevel()
        self._started = False  # whether any speech went out yet

    def speech(self, samples: np.ndarray, rate: int) -> Iterator[bytes]:
        """An engine chunk (`samples` at `rate`) as the stream's bytes, a piece at a time, each
        as soon as it is ready: the stream's first speech as a head and the rest."""
        if not samples.size:
            return
        ready = resample(
            postprocess(samples, rate, pitch_semitones=self._pitch, volume=self._volume, level=self._level),
            rate,
            self._rate,
        )
        pieces = [ready] if self._started else head_first(ready, self._rate)
        self._started = True
        for piece in pieces:
            yield self._encoder.add(self._marker.mark(piece, self._rate) if self._marker else piece)

    def pause(self, samples: np.ndarray) -> bytes:
        """A block's end: its `wait_after_ms` silence at the job's rate (unmarked, as in the
        whole file). The next block's level is measured afresh, as the file sets each block's."""
        self._level = BlockLevel()
        return self._encoder.add(samples) if samples.size else b""

    def end(self) -> bytes:
        """What the encoder still held."""
        return self._encoder.end()


class ChunkWriter:
    """One streaming job's pieces, in order, across all its blocks, stored and counted."""

    def __init__(
        self,
        job: JobRecord,
        jobs: JobRepository,
        store: AudioStore,
        worker_id: str,
        marker: Watermarker | None,
    ) -> None:
        self._job, self._jobs, self._store, self._worker_id = job, jobs, store, worker_id
        self._audio = StreamAudio(
            job.output_format, job.sample_rate, marker, pitch_semitones=job.pitch_semitones, volume=job.volume
        )
        self._chunks = 0

    def speech(self, samples: np.ndarray, rate: int) -> None:
        """An engine chunk, sent piece by piece as each is ready. Fits `ChunkCallback`."""
        for body in self._audio.speech(samples, rate):
            self._send(body)

    def pause(self, samples: np.ndarray) -> None:
        """A block's end, with its pause (see `StreamAudio.pause`)."""
        self._send(self._audio.pause(samples))

    def end(self) -> None:
        """The encoder's last bytes, and the record that the stream is complete."""
        self._send(self._audio.end(), ended=True)

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
