"""F5-TTS against upstream, and many requests in one `CFM.sample` call, with the tiny model.

1. The single-job path is f5-tts's own: same seed, same settings, same bits as calling
   `infer_batch_process` batch by batch.
2. `synthesize_many`: one result per job, each as long as F5's duration rule makes it,
   each job's audio independent of its batch-mates. What holds, measured on CPU in fp32:
   a batch of one is bit-identical to `synthesize` (same code path inside CFM.sample);
   beside other jobs a job's noise is still exactly its own (seeded per item), and only
   float rounding differs (padded shapes, the attention mask): ~2e-5 on audio in [-1, 1].

Equal settings at 8 flow steps rather than the default 32 keep these tests quick: the code
paths are the same at any step count. Engine calls run in a worker thread: f5-tts runs its
own inference in one, and on a busy machine OpenMP spinning in the main thread makes small
torch ops ~10x slower.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from importlib.resources import files
from pathlib import Path
from typing import TypeVar

import numpy as np
import pytest
import soundfile as sf
import torch
from f5_tts.infer.utils_infer import chunk_text, infer_batch_process

from tests.fixtures.tiny_f5 import build_tiny_f5
from voxify_worker.engines.base import EngineError, ReferenceVoice, SynthesisRequest
from voxify_worker.engines.f5_batching import autocast_dtype
from voxify_worker.engines.f5tts import F5TTSEngine, cross_fade, prepare_reference, reference_text

T = TypeVar("T")
EN_TRANSCRIPT = "Some call me nature, others call me mother nature."
ZH_TRANSCRIPT = "对，这就是我，万人敬仰的太乙真人。"
SHORT = "I don't really care what you call me."
MEDIUM = "Watching species evolve, empires rise and fall, I am mighty and enduring."
TWO_BATCHES = (
    "I don't really care what you call me. I've been a silent spectator, watching species evolve, "
    "empires rise and fall. But always remember, I am mighty and enduring. Respect me and I'll "
    "nurture you; ignore me and you shall face the consequences."
)
STEPS = 8
TOLERANCE = 1e-4  # beside batch-mates: float rounding only (measured ~2e-5)


def in_thread(call: Callable[[], T]) -> T:
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(call).result()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_f5(tmp_path_factory.mktemp("f5store"))


@pytest.fixture(scope="module")
def engine(store: Path) -> F5TTSEngine:
    return F5TTSEngine(store, seed=7, device="cpu", nfe_steps=STEPS)


def _voice(name: str, transcript: str, voice_id: str) -> ReferenceVoice:
    audio, rate = sf.read(str(files("f5_tts").joinpath(f"infer/examples/basic/{name}")), dtype="float32")
    return ReferenceVoice(voice_id, audio, rate, transcript)


@pytest.fixture(scope="module")
def english() -> ReferenceVoice:
    return _voice("basic_ref_en.wav", EN_TRANSCRIPT, "voice-en")


@pytest.fixture(scope="module")
def chinese() -> ReferenceVoice:
    return _voice("basic_ref_zh.wav", ZH_TRANSCRIPT, "voice-zh")


@pytest.fixture(scope="module")
def jobs(english, chinese) -> list[tuple[ReferenceVoice, SynthesisRequest]]:
    """Different voices, texts, speeds and languages: lengths differ, so padding is exercised."""
    return [
        (english, SynthesisRequest(SHORT)),
        (chinese, SynthesisRequest("今天天气很好，我们一起去公园散步吧。", language="zh", speed=0.8)),
        (english, SynthesisRequest(MEDIUM, speed=1.5)),
    ]


@pytest.fixture(scope="module")
def alone(engine, jobs) -> list[np.ndarray]:
    """Each job through the single-job path."""
    return [in_thread(partial(engine.synthesize, *job)).audio for job in jobs]


def upstream(engine: F5TTSEngine, voice: ReferenceVoice, text: str, seed: int) -> list[np.ndarray]:
    """Each sentence batch through f5-tts's infer_batch_process at the engine's settings,
    one after another from one seeded random stream, as the engine calls it."""
    model, vocoder = engine._model("F5TTS_v1_Base"), engine._load_vocoder()
    ref_audio, ref_text = prepare_reference(voice.audio, voice.sample_rate), reference_text(voice.transcript)
    ref_seconds = ref_audio.shape[-1] / 24_000
    batches = chunk_text(text, max_chars=int(len(ref_text.encode()) / ref_seconds * (22 - ref_seconds)))
    torch.manual_seed(seed)
    waves = []
    for batch in batches:
        wave, rate, _ = next(
            infer_batch_process(
                (ref_audio, 24_000),
                ref_text,
                [batch],
                model,
                vocoder,
                progress=None,
                nfe_step=STEPS,
                cfg_strength=2.0,
                sway_sampling_coef=-1.0,
                speed=1.0,
                device="cpu",
            )
        )
        assert rate == 24_000
        waves.append(np.asarray(wave, dtype=np.float32).reshape(-1))
    return waves


def test_a_single_job_is_bit_for_bit_upstream(engine, english):
    result = in_thread(lambda: engine.synthesize(english, SynthesisRequest(SHORT)))
    [wave] = in_thread(lambda: upstream(engine, english, SHORT, seed=7))
    assert result.extra["seed"] == 7 and result.extra["nfe_steps"] == STEPS
    np.testing.assert_array_equal(result.audio, np.clip(wave, -1.0, 1.0))


def test_a_long_job_is_upstream_batch_by_batch_joined_with_f5s_cross_fade(engine, english):
    result = in_thread(lambda: engine.synthesize(english, SynthesisRequest(TWO_BATCHES)))
    waves = in_thread(lambda: upstream(engine, english, TWO_BATCHES, seed=7))
    assert result.extra["batches"] == len(waves) == 2
    joined, _, _ = cross_fade(waves, int(0.15 * 24_000))
    np.testing.assert_array_equal(result.audio, np.clip(joined, -1.0, 1.0))
    # infer_batch_process's own join (float64 ramps) is the same to float32 rounding
    fade = int(0.15 * 24_000)
    ramp = np.linspace(0, 1, fade)
    theirs = np.concatenate([waves[0][:-fade], waves[0][-fade:] * ramp[::-1] + waves[1][:fade] * ramp, waves[1][fade:]])
    np.testing.assert_allclose(result.audio, np.clip(theirs, -1.0, 1.0), atol=1e-6)


def test_a_batch_of_one_is_bit_identical_to_the_single_job_path(engine, jobs, alone):
    [result] = in_thread(lambda: engine.synthesize_many(jobs[:1]))
    assert isinstance(result, type(in_thread(lambda: engine.synthesize(*jobs[0]))))
    np.testing.assert_array_equal(result.audio, alone[0])


def test_a_batch_gives_each_job_its_own_audio_independent_of_its_batch_mates(engine, jobs, alone):
    results = in_thread(lambda: engine.synthesize_many(jobs))
    assert len(results) == len(jobs)
    for result, single in zip(results, alone, strict=True):
        assert not isinstance(result, EngineError)
        assert result.sample_rate == 24_000
        assert result.audio.dtype == np.float32 and result.audio.ndim == 1
        assert result.audio.shape == single.shape  # F5's duration rule, per job
        np.testing.assert_allclose(result.audio, single, atol=TOLERANCE)
        assert result.extra["batched_with"] == 3 and result.extra["seed"] == 7
    assert len({len(result.audio) for result in results if not isinstance(result, EngineError)}) == 3
    # another order, in calls of two: every job still gets its own audio
    reordered = in_thread(lambda: engine.synthesize_many(jobs[::-1], max_items=2))
    for result, single in zip(reordered, alone[::-1], strict=True):
        assert not isinstance(result, EngineError)
        np.testing.assert_allclose(result.audio, single, atol=TOLERANCE)


def test_speed_and_words_per_job_in_a_batch(engine, english):
    normal, fast = in_thread(
        lambda: engine.synthesize_many(
            [(english, SynthesisRequest(MEDIUM)), (english, SynthesisRequest(MEDIUM, speed=2.0))]
        )
    )
    assert not isinstance(normal, EngineError) and not isinstance(fast, EngineError)
    assert 0.4 < fast.duration / normal.duration < 0.6
    assert [timing.word for timing in normal.words] == MEDIUM.split()
    assert normal.words[-1].end_time <= normal.duration


def test_a_long_job_in_a_batch_is_split_and_cross_faded_like_a_single_job(engine, english, jobs):
    single = in_thread(lambda: engine.synthesize(english, SynthesisRequest(TWO_BATCHES)))
    long_job, short_job = in_thread(lambda: engine.synthesize_many([(english, SynthesisRequest(TWO_BATCHES)), jobs[0]]))
    assert not isinstance(long_job, EngineError) and not isinstance(short_job, EngineError)
    assert long_job.extra["batches"] == 2
    # same batches, same lengths; the second batch draws from seed + 1, where the single
    # path continues the first batch's random stream, so only the lengths must agree
    assert long_job.audio.shape == single.audio.shape
    assert [w.word for w in long_job.words] == [w.word for w in single.words]


def test_a_bad_job_fails_alone(engine, english, jobs, alone):
    results = in_thread(
        lambda: engine.synthesize_many(
            [
                (english, SynthesisRequest(" ... ")),
                jobs[0],
                (english, SynthesisRequest(SHORT, speed=0)),
                (ReferenceVoice("mute", english.audio, english.sample_rate, " "), SynthesisRequest(SHORT)),
            ]
        )
    )
    codes = [result.code if isinstance(result, EngineError) else "ok" for result in results]
    assert codes == ["EMPTY_TEXT", "ok", "INVALID_SPEED", "INVALID_REFERENCE"]
    assert not isinstance(results[1], EngineError)
    np.testing.assert_array_equal(results[1].audio, alone[0])


def test_missing_weights_fail_every_job_on_that_model(tmp_path, english):
    results = F5TTSEngine(tmp_path, device="cpu").synthesize_many([(english, SynthesisRequest(SHORT))] * 2)
    assert [result.code for result in results if isinstance(result, EngineError)] == ["MODEL_UNAVAILABLE"] * 2


def test_nothing_to_do(engine):
    assert engine.synthesize_many([]) == []
    with pytest.raises(ValueError):
        engine.synthesize_many([], max_items=0)


def test_precision_is_fp32_on_cpu_and_the_weights_own_half_type_on_cuda(engine):
    model = engine._model("F5TTS_v1_Base")
    assert autocast_dtype("cpu", model) is None

    class Half(torch.nn.Module):
        def __init__(self, dtype: torch.dtype) -> None:
            super().__init__()
            self.weight = torch.nn.Parameter(torch.zeros(1, dtype=dtype))

    assert autocast_dtype("cuda", Half(torch.float16)) is torch.float16
    assert autocast_dtype("cuda:0", Half(torch.bfloat16)) is torch.bfloat16
