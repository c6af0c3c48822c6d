"""Jobs' pitch given either way, the text fields their views echo, and progress by block."""

import math

import pytest
from pydantic import ValidationError

from tests.unit.domain.test_records import job
from voxify.domain.jobs import JobCreate, JobStatus, pitch_pair
from voxify.logic.jobs import blocks_done, estimated_seconds


def test_pitch_is_a_ratio_with_semitones_by_their_own_name():
    assert pitch_pair(None, None) == (1.0, 0.0)
    assert pitch_pair(2.0, None) == (2.0, 12.0)
    ratio, semitones = pitch_pair(1.1, None)
    assert ratio == 1.1 and math.isclose(semitones, 12 * math.log2(1.1), abs_tol=1e-6)
    assert pitch_pair(1.5, -12.0) == (0.5, -12.0)  # the semitones win
    created = JobCreate(text_content="hi", pitch_semitones=3)
    assert math.isclose(created.pitch, 2 ** (3 / 12), abs_tol=1e-6)
    with pytest.raises(ValidationError):
        JobCreate(text_content="hi", pitch=0.0)  # 0.0 meant "unchanged" in semitones: refused, not silent


def test_views_echo_the_text_its_hash_length_and_words():
    shown = job().public()
    assert shown.text_content == "Hello there. Again." and (shown.text_length, shown.word_count) == (19, 3)
    assert len(shown.text_hash or "") == 64 and job().public(include_text=False).text_content is None


@pytest.mark.parametrize(
    ("status", "progress", "done"),
    [("pending", 0, 0), ("processing", 5, 0), ("processing", 50, 1), ("processing", 94, 1), ("completed", 100, 2)],
)
def test_blocks_done_follow_the_workers_share_of_progress(status, progress, done):
    assert blocks_done(job(status=JobStatus(status), progress=progress)) == done


def test_estimated_seconds_count_words_pauses_and_speed():
    assert estimated_seconds(job().public()) == round(3 / 2.5 + 0.2)
    assert estimated_seconds(job(speed=2.0).public()) == round(3 / 2.5 / 2 + 0.2)


def test_only_formats_whose_pieces_join_can_be_streamed():
    for fmt in ("wav", "mp3", "ogg"):
        assert JobCreate(text_content="hi", output_format=fmt, config={"stream": True}).config.stream
    with pytest.raises(ValidationError, match="flac cannot be streamed"):
        JobCreate(text_content="hi", output_format="flac", config={"stream": True})
    assert JobCreate(text_content="hi", output_format="flac").config.stream is False
