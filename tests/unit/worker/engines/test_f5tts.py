"""The F5-TTS engine on the real f5-tts code path, with a tiny random model (tests/fixtures).

The reference is real speech shipped in the f5-tts wheel. A random model speaks noise, so
these tests check what the engine controls: shapes, rates, durations F5 derives from the
text, batching, progress, cancellation, timings, model routing and where weights come from.
"""

from __future__ import annotations

import shutil
from importlib.resources import files
from pathlib import Path

import huggingface_hub.constants
import numpy as np
import pytest
import soundfile as sf
import torch
import torchaudio

from tests.fixtures.tiny_f5 import build_tiny_f5
from voxify import aws
from voxify.settings import get_settings
from voxify_worker.engines.base import (
    EngineError,
    ReferenceVoice,
    SynthesisCancelled,
    SynthesisRequest,
)
from voxify_worker.engines.f5tts import F5TTSEngine, FadeStream, cross_fade, prepare_reference, weights_available
from voxify_worker.engines.model_store import download_model_store

TRANSCRIPT = "Some call me nature, others call me mother nature."
SHORT = "I don't really care what you call me."
LONG = (
    "I don't really care what you call me. I've been a silent spectator, watching species "
    "evolve, empires rise and fall. But always remember, I am mighty and enduring. "
) * 3


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_f5(tmp_path_factory.mktemp("f5store"))


@pytest.fixture(scope="module")
def engine(store: Path) -> F5TTSEngine:
    return F5TTSEngine(store, seed=7)


@pytest.fixture(scope="module")
def reference() -> ReferenceVoice:
    path = files("f5_tts").joinpath("infer/examples/basic/basic_ref_en.wav")
    audio, rate = sf.read(str(path), dtype="float32")
    return ReferenceVoice("voice-en", audio, rate, TRANSCRIPT)


def seconds_per_byte(reference: ReferenceVoice) -> float:
    """F5's duration model: reference seconds per reference-text byte."""
    return len(reference.audio) / reference.sample_rate / len(TRANSCRIPT.encode())


def test_synthesis_returns_float32_24khz_audio_as_long_as_the_text(engine, reference):
    result = engine.synthesize(reference, SynthesisRequest(SHORT))

    assert result.sample_rate == 24_000
    assert result.audio.dtype == np.float32 and result.audio.ndim == 1
    assert np.isfinite(result.audio).all() and np.abs(result.audio).max() <= 1.0
    expected = seconds_per_byte(reference) * len(SHORT.encode())
    assert 0.7 * expected < result.duration < 1.2 * expected
    assert (result.engine, result.model) == ("f5tts", "F5TTS_v1_Base")
    assert result.extra["language_support"] == "native" and result.extra["batches"] == 1


def test_speed_shortens_the_audio(engine, reference):
    normal = engine.synthesize(reference, SynthesisRequest(SHORT))
    fast = engine.synthesize(reference, SynthesisRequest(SHORT, speed=2.0))
    assert 0.4 < fast.duration / normal.duration < 0.6


def test_same_seed_same_audio(engine, reference):
    first = engine.synthesize(reference, SynthesisRequest(SHORT))
    again = engine.synthesize(reference, SynthesisRequest(SHORT))
    assert first.extra["seed"] == again.extra["seed"] == 7
    np.testing.assert_array_equal(first.audio, again.audio)


def test_long_text_is_split_into_batches_and_cross_faded(engine, reference):
    calls: list[tuple[float, str]] = []
    result = engine.synthesize(
        reference, SynthesisRequest(LONG), progress=lambda fraction, message: calls.append((fraction, message))
    )

    batches = result.extra["batches"]
    assert batches >= 3
    assert [fraction for fraction, _ in calls] == pytest.approx([(index + 1) / batches for index in range(batches)])
    expected = seconds_per_byte(reference) * len(LONG.encode())
    assert 0.7 * expected < result.duration < 1.2 * expected


def test_word_timings_are_estimated_monotonic_and_inside_the_audio(engine, reference):
    result = engine.synthesize(reference, SynthesisRequest(LONG))

    assert [timing.word for timing in result.words] == LONG.split()
    assert all(timing.estimated for timing in result.words)
    edges = [edge for timing in result.words for edge in (timing.start_time, timing.end_time)]
    assert edges == sorted(edges)
    assert edges[0] >= 0.0 and edges[-1] <= result.duration
    assert all(timing.end_time > timing.start_time for timing in result.words)


def test_cancellation_is_checked_between_batches(engine, reference):
    done: list[float] = []
    with pytest.raises(SynthesisCancelled):
        engine.synthesize(
            reference,
            SynthesisRequest(LONG),
            progress=lambda fraction, _: done.append(fraction),
            should_cancel=lambda: len(done) >= 1,
        )
    assert len(done) == 1


def test_batches_are_handed_over_at_their_boundaries(engine, reference):
    chunks: list[np.ndarray] = []
    calls: list[str] = []

    def chunk(samples: np.ndarray, rate: int) -> None:
        assert rate == 24_000
        chunks.append(samples)
        calls.append("chunk")

    result = engine.synthesize(
        reference, SynthesisRequest(LONG), progress=lambda *_: calls.append("progress"), on_chunk=chunk
    )
    batches = int(result.extra["batches"])
    # one chunk per batch, before its progress report, and the last batch's cross-fade tail
    assert calls == ["chunk", "progress"] * batches + ["chunk"]
    np.testing.assert_allclose(np.clip(np.concatenate(chunks), -1.0, 1.0), result.audio, atol=1e-6)


@pytest.mark.parametrize("lengths", [[5000, 3000, 4000], [100, 2000], [2000, 50, 60, 3000], [700]])
def test_fade_stream_pieces_join_into_the_cross_faded_audio(lengths):
    rng = np.random.default_rng(7)
    waves = [rng.standard_normal(length).astype(np.float32) for length in lengths]
    fader = FadeStream(600)
    pieces = [fader.add(wave) for wave in waves] + [fader.end()]
    np.testing.assert_allclose(np.concatenate(pieces), cross_fade(waves, 600)[0], atol=1e-6)


@pytest.mark.parametrize(
    ("language", "model", "support"),
    [
        ("en-US", "F5TTS_v1_Base", "native"),
        ("zh", "F5TTS_v1_Base", "native"),
        ("pt", "F5TTS_v1_Base", "fallback"),
        ("sw", "F5TTS_v1_Base", "fallback"),
    ],
)
def test_language_routing(engine, reference, language, model, support):
    result = engine.synthesize(reference, SynthesisRequest("Hello.", language=language))
    assert (result.model, result.extra["language_support"]) == (model, support)


def test_a_fine_tune_missing_from_the_store_falls_back_to_the_base_model(engine, reference):
    result = engine.synthesize(reference, SynthesisRequest("Hola a todos.", language="es"))
    assert result.model == "F5TTS_v1_Base"
    assert result.extra["language_support"] == "fallback"
    assert result.extra["requested_model"] == "F5TTS_Spanish"


def test_missing_weights_are_a_permanent_error(tmp_path, reference):
    with pytest.raises(EngineError) as raised:
        F5TTSEngine(tmp_path).synthesize(reference, SynthesisRequest(SHORT))
    assert raised.value.code == "MODEL_UNAVAILABLE"


def test_a_corrupt_checkpoint_is_model_unavailable(store, tmp_path, reference):
    broken = tmp_path / "store"
    shutil.copytree(store, broken)
    next(broken.glob("F5TTS_v1_Base/*.safetensors")).write_bytes(b"not a checkpoint")
    with pytest.raises(EngineError) as raised:
        F5TTSEngine(broken).synthesize(reference, SynthesisRequest(SHORT))
    assert raised.value.code == "MODEL_UNAVAILABLE"


def test_hub_download_when_allowed_but_unreachable_is_model_unavailable(tmp_path, reference, monkeypatch):
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)  # no network
    engine = F5TTSEngine(tmp_path, allow_hub_download=True)
    with pytest.raises(EngineError) as raised:
        engine.synthesize(reference, SynthesisRequest(SHORT))
    assert raised.value.code == "MODEL_UNAVAILABLE"


@pytest.mark.parametrize("text", ["", "   ", " ... !"])
def test_empty_text_is_rejected(engine, reference, text):
    with pytest.raises(EngineError) as raised:
        engine.synthesize(reference, SynthesisRequest(text))
    assert raised.value.code == "EMPTY_TEXT"


def test_reference_without_transcript_is_rejected(engine, reference):
    voice = ReferenceVoice("no-transcript", reference.audio, reference.sample_rate, " ")
    with pytest.raises(EngineError) as raised:
        engine.synthesize(voice, SynthesisRequest(SHORT))
    assert raised.value.code == "INVALID_REFERENCE"


def test_reference_is_clipped_mono_and_resampled_to_24khz(reference):
    speech = torchaudio.functional.resample(torch.from_numpy(reference.audio), reference.sample_rate, 16_000).numpy()
    pause = np.zeros(4_800, dtype=np.float32)
    long_stereo = np.tile(np.concatenate([speech, pause]), 4)[:, None].repeat(2, axis=1)

    prepared = prepare_reference(long_stereo, 16_000)

    assert prepared.shape[0] == 1
    assert 6.0 < prepared.shape[-1] / 24_000 <= 12.1  # cut at a pause, as F5 does


def test_worker_engine_runs_on_the_s3_model_store_downloaded_once(stack, store, tmp_path, reference, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("VOXIFY_MODEL_CACHE_DIR", str(cache))
    monkeypatch.delenv("VOXIFY_ALLOW_HUB_DOWNLOAD", raising=False)
    get_settings.cache_clear()
    assert not weights_available()  # nothing in S3 yet

    settings = get_settings()
    s3 = aws.client("s3")
    uploaded = sorted(str(path.relative_to(store)) for path in store.rglob("*") if path.is_file())
    for relative in uploaded:
        s3.upload_file(str(store / relative), settings.audio_bucket, settings.model_s3_prefix + relative)
    assert sorted(download_model_store(cache)) == uploaded
    assert download_model_store(cache) == []  # already there: nothing fetched again
    assert weights_available()

    engine = F5TTSEngine.from_settings()
    result = engine.synthesize(reference, SynthesisRequest(SHORT))
    assert engine.store.root == cache
    assert result.model == "F5TTS_v1_Base" and result.duration > 1.0
