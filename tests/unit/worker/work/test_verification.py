"""Voice verification's rule: the phrase said (word error rate of what PocketSphinx hears) and
the speaker (similarity to the voice), measured on real recorded speech."""

from __future__ import annotations

import pytest
from pocketsphinx import Decoder

from tests.fixtures.api import reset_caches
from tests.fixtures.worker import REFERENCE_TEXT, other_speaker_flac, reference_speech
from voxify.errors import ErrorCode
from voxify.logic.verification import PHRASES
from voxify_worker.audio import decode
from voxify_worker.embeddings.encoder import SAME_SPEAKER_SIMILARITY, SpeakerEncoder, similarity
from voxify_worker.work.alignment import transcribe
from voxify_worker.work.verification import (
    MAX_WORD_ERROR_RATE,
    Measured,
    judge,
    speaker_threshold,
    word_error_rate,
    words,
)


@pytest.fixture(scope="module")
def heard() -> list[str]:
    """What the recogniser hears in the f5-tts example recording."""
    return transcribe(*decode(reference_speech()))


def measured(wer: float = 0.0, similarity: float = 0.9, watermarked: bool = False) -> Measured:
    return Measured(heard=[], word_error_rate=wer, speaker_similarity=similarity, watermarked=watermarked)


def test_word_error_rate_counts_substitutions_deletions_and_insertions():
    assert word_error_rate("Some call me nature, others call me mother nature.", words(REFERENCE_TEXT)) == 0.0
    assert word_error_rate("one two three four", ["one", "too", "three", "four"]) == 0.25
    assert word_error_rate("one two three four", ["one", "three", "four"]) == 0.25
    assert word_error_rate("one two three four", ["one", "two", "and", "three", "four"]) == 0.25
    assert word_error_rate("one two three four", []) == 1.0


def test_the_recording_says_its_transcript_and_no_challenge_phrase(heard):
    right = word_error_rate(REFERENCE_TEXT, heard)
    assert right <= MAX_WORD_ERROR_RATE, heard  # measured 0.11: "someone call me nature ..."
    wrong = [word_error_rate(phrase, heard) for phrase in PHRASES]
    assert min(wrong) > 2 * MAX_WORD_ERROR_RATE, (heard, min(wrong))


def test_every_phrase_is_in_the_recognisers_dictionary():
    dictionary = Decoder(loglevel="FATAL")
    for phrase in PHRASES:
        assert 10 <= len(words(phrase)) <= 13, phrase
        assert all(dictionary.lookup_word(word) is not None for word in words(phrase)), phrase
    assert len(set(PHRASES)) == len(PHRASES)


def test_the_speaker_is_judged_by_the_guards_threshold_on_real_speech():
    encoder = SpeakerEncoder()
    own, rate = decode(reference_speech())
    voice = encoder.embed(own[: len(own) // 2], rate)
    same = similarity(encoder.embed(own, rate), voice)
    other = similarity(encoder.embed(*decode(other_speaker_flac("town.flac"))), voice)
    assert same >= SAME_SPEAKER_SIMILARITY > other, (same, other)  # measured 0.90 and 0.57


@pytest.mark.parametrize(
    ("result", "code"),
    [
        (measured(), None),
        (measured(wer=MAX_WORD_ERROR_RATE), None),
        (measured(wer=0.5), ErrorCode.PHRASE_MISMATCH),
        (measured(similarity=0.69), ErrorCode.SPEAKER_MISMATCH),
        (measured(wer=1.0, similarity=0.2), ErrorCode.PHRASE_MISMATCH),
        (measured(watermarked=True), ErrorCode.SYNTHETIC_RECORDING),
    ],
)
def test_the_rule(result, code):
    refused = judge(result, SAME_SPEAKER_SIMILARITY)
    assert (refused.code if refused else None) == code


def test_a_laxer_guard_setting_does_not_make_verification_laxer(monkeypatch):
    monkeypatch.setenv("VOXIFY_IMPERSONATION_THRESHOLD", "0.5")
    reset_caches()
    assert speaker_threshold() == SAME_SPEAKER_SIMILARITY
    monkeypatch.setenv("VOXIFY_IMPERSONATION_THRESHOLD", "0.8")
    reset_caches()
    assert speaker_threshold() == 0.8
    monkeypatch.delenv("VOXIFY_IMPERSONATION_THRESHOLD")
    reset_caches()
