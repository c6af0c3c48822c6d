"""Audio encoded a piece at a time: the pieces, joined, play as one stream of all the audio."""

from __future__ import annotations

import io

import av
import numpy as np
import pytest

from voxify.errors import ErrorCode
from voxify_worker.audio.errors import AudioError
from voxify_worker.audio.stream_encode import StreamEncoder, pcm16

RATE = 24_000


def _pieces() -> list[np.ndarray]:
    """Three 'sentences' of a tone, 1.0 s, 0.5 s and 1.5 s."""
    return [(0.3 * np.sin(2 * np.pi * 220 * np.arange(int(s * RATE)) / RATE)).astype(np.float32) for s in (1, 0.5, 1.5)]


def _decoded_seconds(stream: bytes) -> float:
    """Seconds of audio FFmpeg decodes from the stream, read to its end as a player would."""
    with av.open(io.BytesIO(stream)) as container:
        frames = list(container.decode(audio=0))
    return sum(frame.samples for frame in frames) / frames[0].sample_rate


def test_wav_streams_are_bare_pcm_of_each_piece():
    encoder = StreamEncoder("wav", RATE)
    pieces = _pieces()
    assert b"".join(encoder.add(piece) for piece in pieces) + encoder.end() == pcm16(np.concatenate(pieces))


@pytest.mark.parametrize(("fmt", "first_bytes"), [("mp3", b"\xff"), ("ogg", b"OggS")])
def test_encoded_pieces_join_into_one_playable_stream(fmt, first_bytes):
    encoder = StreamEncoder(fmt, RATE)
    sent = [encoder.add(piece) for piece in _pieces()]
    assert sent[0].startswith(first_bytes)  # audio goes out with the first piece, not at the end
    stream = b"".join(sent) + encoder.end()
    assert 2.9 < _decoded_seconds(stream) < 3.1


def test_mp3_streams_leave_out_the_tag_placeholder():
    encoder = StreamEncoder("mp3", RATE)
    first = encoder.add(_pieces()[0])
    assert first[:2] == b"\xff\xf3" and any(first[4:40])  # a real frame, not LAME's zeros


def test_flac_cannot_be_streamed():
    with pytest.raises(AudioError) as refused:
        StreamEncoder("flac", RATE)
    assert refused.value.code == ErrorCode.UNSUPPORTED_FORMAT
