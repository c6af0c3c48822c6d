"""F5-TTS, the production engine, run through f5-tts's own loaders and inference function.

Text is split into sentence batches with F5's `chunk_text` (batch size from the reference's
characters per second, as F5's `infer_process` does) and each batch goes through F5's
`infer_batch_process` on its own, so the job can report progress and be cancelled between
batches; the batches are then joined with F5's linear cross-fade. F5 reports no word times,
so they are estimated from character counts and marked as such.
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

import numpy as np
import torch
import torchaudio
from f5_tts.infer.utils_infer import (
    chunk_text,
    infer_batch_process,
    load_model,
    load_vocoder,
    remove_silence_edges,
)
from f5_tts.infer.utils_infer import hop_length as HOP_LENGTH
from f5_tts.infer.utils_infer import target_sample_rate as SAMPLE_RATE
from f5_tts.model import CFM, DiT
from pydub import AudioSegment, silence
from vocos import Vocos

from voxify.cache import LruCache
from voxify.errors import ErrorCode
from voxify_worker.engines.base import (
    CancelCheck,
    ChunkCallback,
    EngineError,
    ProgressCallback,
    ReferenceVoice,
    SynthesisCancelled,
    SynthesisRequest,
    SynthesisResult,
    WordTiming,
    has_words,
    require_words,
)
from voxify_worker.engines.f5_batching import Segment, autocast_dtype, sample_segments
from voxify_worker.engines.model_store import ModelStore, Route, open_worker_store

MAX_REFERENCE_MS = 12_000  # F5's own cap: reference plus batch must fit its ~22 s window
REFERENCE_CACHE_SIZE = 16
# One CJK/kana character is one word; anything else is split on whitespace.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(f"[{_CJK}]|[^\\s{_CJK}]+")


class F5TTSEngine:
    """Voice cloning with F5-TTS; weights from a local model store directory."""

    name = "f5tts"

    def __init__(
        self,
        model_dir: Path,
        *,
        device: str | None = None,
        nfe_steps: int = 32,
        cfg_strength: float = 2.0,
        sway_sampling: float = -1.0,
        cross_fade_seconds: float = 0.15,
        seed: int | None = None,
        allow_hub_download: bool = False,
        max_loaded_models: int = 2,
    ) -> None:
        self.store = ModelStore(model_dir, allow_hub_download=allow_hub_download)
        self.model = self.store.catalog.default_model
        self.version = version("f5-tts")
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.nfe_steps = nfe_steps
        self.cfg_strength = cfg_strength
        self.sway_sampling = sway_sampling
        self.cross_fade_seconds = cross_fade_seconds
        self.seed = seed
        self._models: LruCache[str, CFM] = LruCache(max_loaded_models)
        self._references: LruCache[str, torch.Tensor] = LruCache(REFERENCE_CACHE_SIZE)
        self._vocoder: Vocos | None = None
        # One model instance, one global RNG: concurrent jobs take turns.
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls) -> F5TTSEngine:
        """The worker's engine, on the S3 model store mirrored to the local cache."""
        store = open_worker_store()
        return cls(store.root, allow_hub_download=store.allow_hub_download)

    def synthesize(
        self,
        reference: ReferenceVoice,
        request: SynthesisRequest,
        progress: ProgressCallback | None = None,
        should_cancel: CancelCheck | None = None,
        on_chunk: ChunkCallback | None = None,
    ) -> SynthesisResult:
        require_words(request.text)
        if request.speed <= 0:
            raise EngineError(ErrorCode.INVALID_SPEED, f"speed must be positive, got {request.speed}")
        ref_text = reference_text(reference.transcript)
        with self._lock:
            route, requested = self._route(request.language)
            model, vocoder = self._model(route.model), self._load_vocoder()
            ref_audio = self._reference(reference)
            ref_seconds = ref_audio.shape[-1] / SAMPLE_RATE
            # F5's infer_process rule: a batch plus the reference stays under ~22 s of audio.
            max_chars = int(len(ref_text.encode()) / ref_seconds * (22 - ref_seconds) * request.speed)
            batches = chunk_text(request.text.strip(), max_chars=max_chars)
            seed = self.seed if self.seed is not None else random.randrange(2**31)
            torch.manual_seed(seed)
            waves: list[np.ndarray] = []
            fader = FadeStream(int(self.cross_fade_seconds * SAMPLE_RATE))
            for index, batch in enumerate(batches):
                if should_cancel is not None and should_cancel():
                    raise SynthesisCancelled(f"cancelled before batch {index + 1}/{len(batches)}")
                waves.append(self._speak(model, vocoder, ref_audio, ref_text, batch, request.speed))
                if on_chunk is not None:
                    on_chunk(fader.add(waves[-1]), SAMPLE_RATE)
                if progress is not None:
                    progress((index + 1) / len(batches), f"batch {index + 1}/{len(batches)}")
            if on_chunk is not None:
                on_chunk(fader.end(), SAMPLE_RATE)
        return self._finish(route, requested, batches, waves, seed)

    def synthesize_many(
        self, jobs: Sequence[tuple[ReferenceVoice, SynthesisRequest]], *, max_items: int = 16
    ) -> list[SynthesisResult | EngineError]:
        """Several independent requests at once: their sentence batches share `CFM.sample` calls.

        What a GPU gains: one request's 32 DiT steps run over a single short sequence and
        leave the card mostly idle; here up to `max_items` sentence batches (of any requests
        routed to the same model, of similar length, longest first) share each call. See
        engines/f5_batching.py for how each item stays what it would be alone.

        Returns one entry per job, in order: its result, post-processed as `synthesize`'s
        (F5's cross-fade between its batches, clipping, estimated word timings), or the
        EngineError that fails that job alone (no words, bad speed or reference, weights
        missing). Any other error (out of memory, say) is raised for the whole call: it is
        not the fault of one job, and each job may be retried. A request's first batch
        draws its noise from the job's seed as `synthesize` does, so a one-batch request
        gets the audio `synthesize` gives it (bit for bit in a batch of one, within float
        rounding beside others); batch k > 0 draws from seed + k, where `synthesize`
        continues the first batch's random stream. No progress, cancellation or chunk
        callbacks: the whole call is one step.
        """
        if max_items < 1:
            raise ValueError(f"max_items must be at least 1, got {max_items}")
        outcomes: list[SynthesisResult | EngineError | None] = [None] * len(jobs)
        plans: list[_Planned] = []
        with self._lock:
            for index, (reference, request) in enumerate(jobs):
                try:
                    plans.append(self._plan(index, reference, request))
                except EngineError as error:
                    outcomes[index] = error
            by_model: dict[str, list[_Planned]] = {}
            for plan in plans:
                by_model.setdefault(plan.route.model, []).append(plan)
            for name, group in by_model.items():
                try:
                    model, vocoder = self._model(name), self._load_vocoder()
                except EngineError as error:
                    for plan in group:
                        outcomes[plan.index] = error
                    continue
                self._sample_group(model, vocoder, group, max_items)
        for plan in plans:
            if outcomes[plan.index] is None:
                waves = [plan.waves[k] for k in range(len(plan.batches))]
                outcomes[plan.index] = self._finish(
                    plan.route, plan.requested, plan.batches, waves, plan.seed, batched_with=len(jobs)
                )
        done = [outcome for outcome in outcomes if outcome is not None]
        assert len(done) == len(jobs)  # every job has its result or its error
        return done

    def _plan(self, index: int, reference: ReferenceVoice, request: SynthesisRequest) -> _Planned:
        """A job's checks, model route and sentence batches, as `synthesize` makes them."""
        require_words(request.text)
        if request.speed <= 0:
            raise EngineError(ErrorCode.INVALID_SPEED, f"speed must be positive, got {request.speed}")
        ref_text = reference_text(reference.transcript)
        route, requested = self._route(request.language)
        ref_audio = self._reference(reference)
        ref_seconds = ref_audio.shape[-1] / SAMPLE_RATE
        max_chars = int(len(ref_text.encode()) / ref_seconds * (22 - ref_seconds) * request.speed)
        batches = chunk_text(request.text.strip(), max_chars=max_chars)
        seed = self.seed if self.seed is not None else random.randrange(2**31)
        return _Planned(index, route, requested, ref_audio, ref_text, request.speed, batches, seed)

    def _sample_group(self, model: CFM, vocoder: Vocos, group: list[_Planned], max_items: int) -> None:
        """Every sentence batch of jobs on one model, similar lengths together, into plan.waves."""
        items = [(plan, k) for plan in group for k in range(len(plan.batches))]
        # longest first, so that the items of one call pad to similar lengths
        items.sort(key=lambda item: -item[0].frames(item[1]))
        precision = autocast_dtype(self.device, model)
        for start in range(0, len(items), max_items):
            chunk = items[start : start + max_items]
            segments = [
                Segment(plan.ref_audio, plan.ref_text, plan.batches[k], plan.speed, (plan.seed + k) % 2**31)
                for plan, k in chunk
            ]
            waves = sample_segments(
                model,
                vocoder,
                segments,
                nfe_steps=self.nfe_steps,
                cfg_strength=self.cfg_strength,
                sway_sampling=self.sway_sampling,
                device=self.device,
                precision=precision,
            )
            for (plan, k), wave in zip(chunk, waves, strict=True):
                plan.waves[k] = wave

    def _finish(
        self,
        route: Route,
        requested: str,
        batches: list[str],
        waves: list[np.ndarray],
        seed: int,
        batched_with: int | None = None,
    ) -> SynthesisResult:
        """The batches' audio joined with F5's cross-fade, clipped, with estimated word times."""
        audio, starts, overlaps = cross_fade(waves, int(self.cross_fade_seconds * SAMPLE_RATE))
        words = estimate_word_timings(batches, starts, [len(wave) for wave in waves], overlaps)
        extra: dict[str, object] = {
            "language_support": route.support,
            "requested_model": requested,
            "batches": len(batches),
            "nfe_steps": self.nfe_steps,
            "cfg_strength": self.cfg_strength,
            "sway_sampling": self.sway_sampling,
            "seed": seed,
            "device": self.device,
        }
        if batched_with is not None:
            extra["batched_with"] = batched_with  # jobs in the synthesize_many call
        return SynthesisResult(
            audio=np.clip(audio, -1.0, 1.0),
            sample_rate=SAMPLE_RATE,
            words=words,
            engine=self.name,
            model=route.model,
            version=self.version,
            extra=extra,
        )

    def _speak(
        self, model: CFM, vocoder: Vocos, ref_audio: torch.Tensor, ref_text: str, batch: str, speed: float
    ) -> np.ndarray:
        """One text batch through F5's own inference function (which also does F5's RMS
        normalisation of the reference and its duration estimate)."""
        wave, _, _ = next(
            infer_batch_process(
                (ref_audio, SAMPLE_RATE),
                ref_text,
                [batch],
                model,
                vocoder,
                progress=None,
                nfe_step=self.nfe_steps,
                cfg_strength=self.cfg_strength,
                sway_sampling_coef=self.sway_sampling,
                speed=speed,
                device=self.device,
            )
        )
        return np.asarray(wave, dtype=np.float32).reshape(-1)

    def _route(self, language: str) -> tuple[Route, str]:
        """The language's model, or the default model when that one is not in the store."""
        catalog = self.store.catalog
        route = catalog.route(language)
        if route.model != catalog.default_model and self.store.model_files(route.model) is None:
            return Route(catalog.default_model, "fallback"), route.model
        return route, route.model

    def _model(self, name: str) -> CFM:
        return self._models.get_or_load(name, lambda: self._load_model(name))

    def _load_model(self, name: str) -> CFM:
        files = self.store.model_files(name)
        if files is None:
            raise EngineError(
                ErrorCode.MODEL_UNAVAILABLE, f"F5-TTS weights for {name} are not in the model store {self.store.root}"
            )
        checkpoint, vocab = files
        try:
            model = load_model(
                DiT, self.store.catalog.models[name].arch, str(checkpoint), vocab_file=str(vocab), device=self.device
            )
        except torch.cuda.OutOfMemoryError:
            raise  # transient: another attempt may find the memory free
        except Exception as error:  # a corrupt or mismatched checkpoint stays so
            message = f"{name} could not be loaded: {error}"
            raise EngineError(ErrorCode.MODEL_UNAVAILABLE, message) from error
        return model

    def _load_vocoder(self) -> Vocos:
        if self._vocoder is None:
            directory = self.store.vocoder_dir()
            if directory is None:
                raise EngineError(
                    ErrorCode.MODEL_UNAVAILABLE, f"the Vocos vocoder is not in the model store {self.store.root}"
                )
            self._vocoder = load_vocoder(
                vocoder_name="vocos", is_local=True, local_path=str(directory), device=self.device
            )
        return self._vocoder

    def _reference(self, reference: ReferenceVoice) -> torch.Tensor:
        """Prepared once per voice: silence search and resampling cost more than a batch."""
        return self._references.get_or_load(
            reference.voice_id, lambda: prepare_reference(reference.audio, reference.sample_rate)
        )


@dataclass
class _Planned:
    """One job of a `synthesize_many` call: what `_plan` decided, and its batches' audio."""

    index: int  # in the call's list of jobs
    route: Route
    requested: str
    ref_audio: torch.Tensor
    ref_text: str
    speed: float
    batches: list[str]
    seed: int
    waves: dict[int, np.ndarray] = field(default_factory=dict)  # by batch number

    def frames(self, batch: int) -> float:
        """About how many frames batch number `batch` asks of `CFM.sample` (F5's rule)."""
        ref_frames = self.ref_audio.shape[-1] / HOP_LENGTH
        return float(ref_frames) * (1 + len(self.batches[batch].encode()) / len(self.ref_text.encode()) / self.speed)


def weights_available() -> bool:
    """Whether the default model and the vocoder can be had (syncing the S3 store first)."""
    store = open_worker_store()
    default = store.catalog.default_model
    return store.model_files(default) is not None and store.vocoder_dir() is not None


def prepare_reference(audio: np.ndarray, sample_rate: int) -> torch.Tensor:
    """Reference audio as F5 conditions on it: mono, <= ~12 s cut at a pause, 24 kHz.

    Same rules as f5-tts's preprocess_ref_audio_text, applied in memory: that function works
    on files and keeps every processed clip in a temporary file for the life of the process.
    Loudness is left to infer_batch_process, which lifts quiet references to F5's target RMS.
    """
    mono = audio.mean(axis=1) if audio.ndim == 2 else audio  # (frames, channels) as soundfile
    pcm = (np.clip(mono, -1.0, 1.0) * 32767).astype("<i2")
    clip = AudioSegment(data=pcm.tobytes(), sample_width=2, frame_rate=sample_rate, channels=1)
    # First cut at a long pause, then at a short one, then anywhere.
    for min_silence_ms, threshold_db in ((1000, -50), (100, -40)):
        kept = AudioSegment.silent(duration=0, frame_rate=sample_rate)
        for part in silence.split_on_silence(
            clip, min_silence_len=min_silence_ms, silence_thresh=threshold_db, keep_silence=1000, seek_step=10
        ):
            if len(kept) > 6000 and len(kept + part) > MAX_REFERENCE_MS:
                break
            kept += part
        if len(kept) <= MAX_REFERENCE_MS:
            break
    trimmed = remove_silence_edges(kept[:MAX_REFERENCE_MS])
    if len(trimmed) == 0:
        raise EngineError(ErrorCode.INVALID_REFERENCE, "the reference audio is silent")
    padded = trimmed + AudioSegment.silent(duration=50, frame_rate=sample_rate)
    samples = np.asarray(padded.get_array_of_samples(), dtype=np.float32) / 32768.0
    wave = torch.from_numpy(samples).unsqueeze(0)
    resampled: torch.Tensor = torchaudio.functional.resample(wave, sample_rate, SAMPLE_RATE)
    return resampled


def reference_text(transcript: str) -> str:
    """The transcript ending the way F5's preprocessing leaves it ('. ' or '。')."""
    text = transcript.strip()
    if not text:
        raise EngineError(ErrorCode.INVALID_REFERENCE, "F5-TTS needs the reference audio's transcript")
    if text.endswith("。"):
        return text
    return text + (" " if text.endswith(".") else ". ")


def cross_fade(waves: list[np.ndarray], fade_samples: int) -> tuple[np.ndarray, list[int], list[int]]:
    """Join batch audio with F5's linear cross-fade.

    Returns the audio, where each batch starts in it, and how many samples each batch shares
    with the one before (0 for the first).
    """
    audio, starts, overlaps = waves[0], [0], [0]
    for wave in waves[1:]:
        overlap = min(fade_samples, len(audio), len(wave))
        start = len(audio) - overlap
        ramp = np.linspace(0.0, 1.0, overlap, dtype=np.float32)
        mixed = audio[start:] * (1.0 - ramp) + wave[:overlap] * ramp
        audio = np.concatenate([audio[:start], mixed, wave[overlap:]])
        starts.append(start)
        overlaps.append(overlap)
    return audio.astype(np.float32), starts, overlaps


class FadeStream:
    """`cross_fade` a batch at a time, for streaming: each call hands out the joined audio
    that no later batch can change (all but the last `fade_samples`, which the next batch's
    fade-in mixes into); `end` hands out the rest. Joined, the pieces are `cross_fade`'s audio."""

    def __init__(self, fade_samples: int) -> None:
        self._fade = fade_samples
        self._held = np.zeros(0, dtype=np.float32)  # the joined audio's tail not handed out yet
        self._length = 0  # of the joined audio so far

    def add(self, wave: np.ndarray) -> np.ndarray:
        overlap = min(self._fade, self._length, len(wave))
        kept = len(self._held) - overlap
        ramp = np.linspace(0.0, 1.0, overlap, dtype=np.float32)
        mixed = self._held[kept:] * (1.0 - ramp) + wave[:overlap] * ramp
        pending = np.concatenate([self._held[:kept], mixed, wave[overlap:]]).astype(np.float32)
        self._length += len(wave) - overlap
        cut = max(0, len(pending) - self._fade)
        self._held = pending[cut:]
        return pending[:cut]

    def end(self) -> np.ndarray:
        return self._held


def estimate_word_timings(
    batches: list[str], starts: list[int], lengths: list[int], overlaps: list[int]
) -> list[WordTiming]:
    """Word times spread over each batch's audio in proportion to UTF-8 bytes.

    F5 sizes each batch's audio by its byte count, so bytes are its own clock. A batch owns
    its audio up to the middle of each cross-fade, which keeps times monotonic.
    """
    words: list[WordTiming] = []
    total = starts[-1] + lengths[-1]
    previous_end = 0.0
    for index, batch in enumerate(batches):
        next_overlap = overlaps[index + 1] if index + 1 < len(batches) else 0
        begin = max(starts[index] + overlaps[index] / 2, previous_end)
        end = max(begin, min(starts[index] + lengths[index] - next_overlap / 2, total))
        tokens = _TOKEN.findall(batch)
        weights = [len(token.encode()) for token in tokens]
        step = (end - begin) / max(1, sum(weights) + len(tokens))  # +1 per token: the gap
        cursor = begin
        for token, weight in zip(tokens, weights, strict=True):
            if has_words(token):
                words.append(
                    WordTiming(token, cursor / SAMPLE_RATE, (cursor + weight * step) / SAMPLE_RATE, estimated=True)
                )
            cursor += (weight + 1) * step
        previous_end = end
    return words
