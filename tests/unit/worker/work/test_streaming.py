"""A streaming job's audio as the listener gets it: the first audio leaves as a short head that
carries the watermark on its own, the pieces join into the whole marked speech, and the
stream's loudness follows the job's file (one level per block) rather than evening out its
sentences."""

from __future__ import annotations

import numpy as np
import pytest

from tests.fixtures.speech import espeak_speech
from voxify_worker.audio import loudness, postprocess, resample, silence
from voxify_worker.audio.watermark import Watermarker
from voxify_worker.work.streaming import HEAD_SECONDS, StreamAudio

RATE = 22_050
SENTENCES = [
    "The first sentence leaves the worker before the others are made.",
    "A second one follows while the listener is already hearing the first.",
    "The third sentence is a little longer than the two before it, to take some time.",
    "And the fourth sentence ends the paragraph.",
]
# how each sentence's level differs from the first's, as a speaker's does (about -3 to +2 dB)
LEVELS = [1.0, 0.7, 1.25, 0.8]


@pytest.fixture(scope="module")
def sentences() -> tuple[list[np.ndarray], int]:
    spoken = [espeak_speech(text) for text in SENTENCES]
    rate = spoken[0][1]
    return [samples * level for (samples, _), level in zip(spoken, LEVELS, strict=True)], rate


def _pcm(body: bytes) -> np.ndarray:
    return np.frombuffer(body, dtype="<i2").astype(np.float32) / 32768


def _streamed(audio: StreamAudio, chunks: list[np.ndarray], rate: int) -> list[np.ndarray]:
    return [_pcm(body) for chunk in chunks for body in audio.speech(chunk, rate)]


def test_the_first_audio_leaves_as_a_short_head_marked_on_its_own(sentences):
    chunks, rate = sentences
    marker = Watermarker()
    pieces = _streamed(StreamAudio("wav", RATE, marker), chunks[:2], rate)
    head, _rest, _second = pieces  # the first sentence in two pieces, the next one whole
    assert HEAD_SECONDS[0] <= len(head) / RATE <= HEAD_SECONDS[1]
    assert marker.detect(head, RATE).confidence >= 0.95
    streamed = np.concatenate(pieces)
    assert marker.detect(streamed, RATE).confidence >= 0.95
    whole = sum(len(resample(chunk, rate, RATE)) for chunk in chunks[:2])
    assert len(streamed) == whole  # every sample, once


def test_a_short_first_sentence_goes_whole():
    short, rate = espeak_speech("Hi.")
    assert len(short) / rate < 2 * HEAD_SECONDS[1]
    assert len(list(StreamAudio("wav", RATE, None).speech(short, rate))) == 1


def test_a_streamed_block_has_the_files_loudness_and_keeps_its_sentences_levels(sentences):
    chunks, rate = sentences
    streamed = _streamed(StreamAudio("wav", RATE, None), chunks, rate)
    pieces = [np.concatenate(streamed[:2]), *streamed[2:]]  # the head and the rest: one sentence
    file = resample(postprocess(np.concatenate(chunks), rate), rate, RATE)
    assert abs(loudness(np.concatenate(pieces), RATE) - loudness(file, RATE)) < 0.5  # LU
    starts = np.cumsum([0] + [len(piece) for piece in pieces])
    in_file = [loudness(file[start:end], RATE) for start, end in zip(starts, starts[1:], strict=False)]
    in_stream = [loudness(piece, RATE) for piece in pieces]
    # each sentence near its level in the file (these differ by 5 dB, more than a speaker's
    # usually do), and the last at it: by then the stream has heard the whole block
    assert all(abs(s - f) < 1.5 for s, f in zip(in_stream, in_file, strict=True))
    assert abs(in_stream[-1] - in_file[-1]) < 0.2
    # unlike a level set per sentence, the quieter sentences stay quieter
    assert in_stream[1] < in_stream[0] and in_stream[3] < in_stream[2] - 2


def test_each_block_gets_its_own_level_as_in_the_file(sentences):
    chunks, rate = sentences
    audio = StreamAudio("wav", RATE, None)
    first = _streamed(audio, chunks[:1], rate)
    pause = _pcm(audio.pause(silence(300, RATE)))
    quiet = _streamed(audio, [chunks[1] * 0.1], rate)  # a second block, 20 dB down
    assert len(pause) == round(0.3 * RATE) and not pause.any()
    level = loudness(np.concatenate(first), RATE)
    assert abs(loudness(np.concatenate(quiet), RATE) - level) < 1.0  # brought up as its own block
