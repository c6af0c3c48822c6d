"""Many F5-TTS sentence batches, from different requests, through one `CFM.sample` call.

On a GPU one F5 sentence batch leaves most of the card idle: the DiT runs 32 steps (64
forward passes with classifier-free guidance) over a single sequence of a few hundred
frames. `CFM.sample` already takes a padded batch (per-item conditioning, text, duration and
reference length) and masks the padding, so several independent requests (different
voices, texts, speeds) can share those 32 steps. `sample_segments` prepares each item
exactly as f5-tts's `infer_batch_process` prepares its one item (RMS lift of a quiet
reference, the extra space after a one-byte final character, pinyin conversion, the
duration rule with its 0.3 speed for very short text), pads them into one `CFM.sample`
call, then cuts each item back to its own frames and vocodes it on its own, as
`infer_batch_process` does.

Noise: `CFM.sample` draws each item's starting noise in turn, and when given a `seed`
it calls `torch.manual_seed(seed)` before each item's draw (upstream's way of making batch
results not depend on the batch). It calls `int(seed)` each time, so `_ItemSeeds` hands it
a different seed per item: every item's noise is exactly what
`torch.manual_seed(item.seed); torch.randn(...)` gives it alone, whatever its batch-mates.
What can still differ with the batch is floating-point rounding (padded shapes, the
attention mask), which stays within float tolerance; a batch of one runs the very code
path of a single request and gives the same bits.

Vocos runs per item, not on the padded batch: its convolutions would otherwise see the
padding at the end of every shorter item (F5's DiT masks padding; Vocos cannot) and the
vocoder costs a small fraction of the 32 DiT steps.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

import numpy as np
import torch
from f5_tts.infer.utils_infer import hop_length as HOP_LENGTH
from f5_tts.infer.utils_infer import target_rms as TARGET_RMS
from f5_tts.model import CFM
from f5_tts.model.utils import convert_char_to_pinyin, list_str_to_idx
from torch.nn.utils.rnn import pad_sequence
from vocos import Vocos

MAX_DURATION_FRAMES = 65536  # CFM.sample's own cap on an item's frames
SHORT_TEXT_BYTES = 10  # infer_batch_process speaks text shorter than this at speed 0.3
SHORT_TEXT_SPEED = 0.3


@dataclass(frozen=True)
class Segment:
    """One sentence batch of one request, in the form the engine hands `infer_batch_process`."""

    ref_audio: torch.Tensor  # (1, samples) at 24 kHz, as f5tts.prepare_reference returns it
    ref_text: str  # the reference transcript as f5tts.reference_text returns it
    text: str  # the sentence batch to speak
    speed: float
    seed: int  # the item's noise is torch.manual_seed(seed) then torch.randn, as if alone


@dataclass(frozen=True)
class _Prepared:
    """A segment as `infer_batch_process._infer_basic` sees it just before `CFM.sample`."""

    mel: torch.Tensor  # (frames, mels): the conditioning
    tokens: list[str]  # text after pinyin conversion
    ref_frames: int  # the cut point: reference samples // hop, as upstream cuts
    duration: int  # frames asked for, reference included
    rms: float  # the reference's RMS before any lift


class _ItemSeeds:
    """A `seed` for `CFM.sample` whose `int()` is the next item's seed (see the module doc)."""

    def __init__(self, seeds: Sequence[int]) -> None:
        self._seeds: Iterator[int] = iter(seeds)
        self.taken = 0

    def __int__(self) -> int:
        self.taken += 1
        return next(self._seeds)


def autocast_dtype(device: str, model: CFM) -> torch.dtype | None:
    """The reduced precision to run the batched DiT in: none on CPU (fp32, as upstream).

    On CUDA f5-tts's own loader already stores the weights in fp16 on cards of compute
    capability 7+; autocasting to the weights' own type changes no matmul precision and
    lets autocast keep its fp32 ops (norms, softmax, exp) in fp32. Weights left in fp32 (an
    older card, or a model loaded by other means) run under bf16 where the card has it.
    """
    if not device.startswith("cuda"):
        return None
    weights: torch.dtype = next(model.parameters()).dtype
    if weights in (torch.float16, torch.bfloat16):
        return weights
    if torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return None


def sample_segments(
    model: CFM,
    vocoder: Vocos,
    segments: Sequence[Segment],
    *,
    nfe_steps: int,
    cfg_strength: float,
    sway_sampling: float,
    device: str,
    precision: torch.dtype | None = None,
) -> list[np.ndarray]:
    """Each segment's speech (float32 mono at 24 kHz), all from one `CFM.sample` call.

    `precision` is the autocast dtype for the DiT on CUDA (see `autocast_dtype`); None runs
    at the weights' own precision, as `infer_batch_process` does.
    """
    if not segments:
        return []
    prepared = [_prepare(model, segment, device) for segment in segments]
    text = list_str_to_idx([item.tokens for item in prepared], model.vocab_char_map).to(device)
    lens = torch.tensor([item.mel.shape[0] for item in prepared], dtype=torch.long, device=device)
    asked = torch.tensor([item.duration for item in prepared], dtype=torch.long, device=device)
    # CFM.sample's own rule: at least the text or the reference plus one frame, at most its cap
    durations = torch.maximum(torch.maximum((text != -1).sum(dim=-1), lens) + 1, asked)
    durations = durations.clamp(max=MAX_DURATION_FRAMES)
    cond = pad_sequence([item.mel for item in prepared], batch_first=True, padding_value=0.0)
    context: AbstractContextManager[object] = (
        torch.autocast(device_type="cuda", dtype=precision) if precision is not None else nullcontext()
    )
    seeds = _ItemSeeds([segment.seed for segment in segments])
    with torch.inference_mode():
        with context:
            generated, trajectory = model.sample(
                cond=cond,
                text=text,
                duration=durations,
                lens=lens,
                steps=nfe_steps,
                cfg_strength=cfg_strength,
                sway_sampling_coef=sway_sampling,
                seed=seeds,
            )
        del trajectory
        if seeds.taken != len(segments):  # an f5-tts that seeds differently: items would share noise
            raise RuntimeError(f"CFM.sample took {seeds.taken} seeds for {len(segments)} items")
        generated = generated.to(torch.float32)
        waves = []
        for index, item in enumerate(prepared):
            mel = generated[index : index + 1, item.ref_frames : int(durations[index]), :].permute(0, 2, 1)
            wave = vocoder.decode(mel)
            if item.rms < TARGET_RMS:
                wave = wave * item.rms / TARGET_RMS
            waves.append(np.asarray(wave.squeeze().cpu().numpy(), dtype=np.float32).reshape(-1))
    return waves


def _prepare(model: CFM, segment: Segment, device: str) -> _Prepared:
    """`infer_batch_process`'s preparation of its reference and one text batch."""
    audio = segment.ref_audio
    if audio.shape[0] > 1:
        audio = torch.mean(audio, dim=0, keepdim=True)
    rms = torch.sqrt(torch.mean(torch.square(audio)))
    if rms < TARGET_RMS:
        audio = audio * TARGET_RMS / rms
    audio = audio.to(device)
    ref_text = segment.ref_text
    if len(ref_text[-1].encode("utf-8")) == 1:
        ref_text = ref_text + " "
    speed = SHORT_TEXT_SPEED if len(segment.text.encode("utf-8")) < SHORT_TEXT_BYTES else segment.speed
    ref_frames = audio.shape[-1] // HOP_LENGTH
    ref_bytes, text_bytes = len(ref_text.encode("utf-8")), len(segment.text.encode("utf-8"))
    duration = ref_frames + int(ref_frames / ref_bytes * text_bytes / speed)
    with torch.inference_mode():
        mel = model.mel_spec(audio).permute(0, 2, 1)[0]  # as CFM.sample turns a wave into cond
    tokens = convert_char_to_pinyin([ref_text + segment.text])[0]
    return _Prepared(mel=mel, tokens=tokens, ref_frames=ref_frames, duration=duration, rms=float(rms))
