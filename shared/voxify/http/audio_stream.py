"""Audio out as it is made: chunked HTTP bodies that follow a streaming job's chunks.

The routes submit a job with `config.stream`; the response then forwards each chunk the worker
stores (voxify.logic.streams) as soon as the job item counts it, polling every
`VOXIFY_STREAM_POLL_SECONDS`. Framing per format:

* wav: a RIFF header whose sizes say 0xFFFFFFFF ("until the stream ends"), then 16-bit PCM;
* pcm: the same PCM with no header (OpenAI's `pcm`);
* mp3, ogg: the worker's encoder output, frames and pages joined as they come;
* sse: OpenAI's `stream_format: "sse"`, each chunk base64 in a `speech.audio.delta` event,
  then `speech.audio.done`.

When the client goes away before the end, the job is cancelled: the worker notices at its
next chunk or progress report and stops. Under API Gateway (Mangum) the body is buffered
whole, so the cloud serves these routes from a Lambda function URL in response-streaming
mode as well (template.yaml: StreamFunction).
"""

from __future__ import annotations

import base64
import json
import struct
import time
from collections.abc import AsyncIterator, Callable
from typing import Literal

import anyio
from fastapi.responses import StreamingResponse

from voxify.domain.jobs import JobRecord, OutputFormat
from voxify.logic.streams import ChunkFollower, stop_unheard
from voxify.settings import get_settings

StreamFormat = Literal["wav", "pcm", "mp3", "ogg"]
MEDIA_TYPES: dict[str, str] = {
    "wav": "audio/wav",
    "pcm": "audio/pcm",
    "mp3": "audio/mpeg",
    "ogg": "audio/ogg",
    "sse": "text/event-stream",
}
UNKNOWN_SIZE = 0xFFFFFFFF
_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}


def job_format(fmt: StreamFormat) -> OutputFormat:
    """The job format whose stream carries `fmt` (raw PCM is a WAV job's stream, unframed)."""
    return "wav" if fmt == "pcm" else fmt


def wav_stream_header(sample_rate: int) -> bytes:
    """A 16-bit mono RIFF/WAVE header for a stream whose length is not known yet."""
    block_align = 2
    return (
        b"RIFF"
        + struct.pack("<I", UNKNOWN_SIZE)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, sample_rate, sample_rate * block_align, block_align, 16)
        + b"data"
        + struct.pack("<I", UNKNOWN_SIZE)
    )


def audio_stream(job: JobRecord, fmt: StreamFormat) -> StreamingResponse:
    """The job's audio as one chunked body, framed as `fmt`."""
    head = [wav_stream_header(job.sample_rate)] if fmt == "wav" else []
    return StreamingResponse(
        _follow(job, head, bytes, []),
        media_type=MEDIA_TYPES[fmt],
        headers={**_HEADERS, "X-Job-Id": job.job_id, "X-Sample-Rate": str(job.sample_rate)},
    )


def sse_stream(job: JobRecord) -> StreamingResponse:
    """The job's audio as OpenAI's speech Server-Sent Events."""
    return StreamingResponse(
        _follow(job, [], _delta_event, [_event({"type": "speech.audio.done"})]),
        media_type=MEDIA_TYPES["sse"],
        headers={**_HEADERS, "X-Job-Id": job.job_id},
    )


def _event(data: dict[str, str]) -> bytes:
    return f"data: {json.dumps(data)}\n\n".encode()


def _delta_event(chunk: bytes) -> bytes:
    return _event({"type": "speech.audio.delta", "audio": base64.b64encode(chunk).decode()})


async def _follow(
    job: JobRecord, head: list[bytes], frame: Callable[[bytes], bytes], tail: list[bytes]
) -> AsyncIterator[bytes]:
    """`head`, each chunk through `frame` as it comes, then `tail` once the stream is over;
    the job is cancelled if the client leaves (this generator is closed or cancelled) first."""
    settings = get_settings()
    deadline = time.monotonic() + settings.stream_max_seconds
    follower = ChunkFollower(job.job_id)
    over = False
    try:
        for part in head:
            yield part
        while not over and time.monotonic() < deadline:
            chunks, over = await anyio.to_thread.run_sync(follower.poll)
            for chunk in chunks:
                yield frame(chunk)
            if not over:
                await anyio.sleep(settings.stream_poll_seconds)
        for part in tail:
            yield part
        over = True
    finally:
        if not over:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(stop_unheard, job)
