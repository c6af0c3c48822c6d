"""Voice quality of the offline engines: intelligibility, likeness to the reference, speed.

For each engine, over SENTENCES (numbers, names, questions) spoken in each reference voice
(the f5-tts example recordings, five speakers), prints:
- WER: word error rate of PocketSphinx (an open recogniser with its bundled English model)
  on the output against the sentences' spoken form;
- speaker similarity (the service's own GE2E encoder) of each voice's output to its own
  reference, and to the nearest of the other references; `nearest` counts the voices whose
  output is closer to their own reference than to any other;
- RTF: engine seconds per second of audio, on the wall clock and in CPU time (the engines
  compute on one thread, so CPU RTF is their one-core figure even on a busy machine).

"vits, unmatched" is the bundled neural voice as it comes, the baseline the voice matching
must improve on. F5-TTS needs weights and a GPU (its tiny test model says nothing of quality)
and is left out. Run with `python -m bench.voice_quality`; it prints figures, it does not pass
or fail.
"""

from __future__ import annotations

import importlib.resources
import io
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import soundfile as sf
from pocketsphinx import Decoder

from voxify_worker.audio import resample
from voxify_worker.embeddings.encoder import SpeakerEncoder, similarity
from voxify_worker.engines.base import ReferenceVoice, SynthesisRequest
from voxify_worker.engines.formant import FormantEngine
from voxify_worker.engines.vits import VitsEngine

# (text as written, as spoken): WER is measured against the spoken form
SENTENCES = [
    ("The quick brown fox jumps over the lazy dog.", "the quick brown fox jumps over the lazy dog"),
    ("Please call Stella tomorrow morning.", "please call stella tomorrow morning"),
    ("Where did you put the keys to the car?", "where did you put the keys to the car"),
    ("The train leaves at 7 from platform 3.", "the train leaves at seven from platform three"),
    ("My sister Anna lives in a small town near the coast.", "my sister anna lives in a small town near the coast"),
    ("Can you tell me how much this book costs?", "can you tell me how much this book costs"),
    ("We sold 12 chairs and 40 tables last week.", "we sold twelve chairs and forty tables last week"),
    ("John and Mary went to the market on Sunday.", "john and mary went to the market on sunday"),
    ("Is it going to rain this afternoon?", "is it going to rain this afternoon"),
    ("The meeting starts at 9 and ends before noon.", "the meeting starts at nine and ends before noon"),
    ("I would like a cup of coffee with milk, please.", "i would like a cup of coffee with milk please"),
    ("Doctor Brown said the results look very good.", "doctor brown said the results look very good"),
    ("How many people live in this city?", "how many people live in this city"),
    ("The children played in the garden until dark.", "the children played in the garden until dark"),
    (
        "Turn left at the second light and park behind the bank.",
        "turn left at the second light and park behind the bank",
    ),
    ("Peter bought 3 apples and 2 oranges.", "peter bought three apples and two oranges"),
    ("What time does the next bus arrive?", "what time does the next bus arrive"),
    ("The river was cold, but the water was clear.", "the river was cold but the water was clear"),
    ("She has worked at the hospital for 20 years.", "she has worked at the hospital for twenty years"),
    ("Thank you for your help with the project.", "thank you for your help with the project"),
    ("Do you know where Michael left his phone?", "do you know where michael left his phone"),
    ("Our new office opens on the first of June.", "our new office opens on the first of june"),
]
EXAMPLES = "infer/examples/"
# recording, its transcript ("" = none shipped), its language
REFERENCES = {
    "basic_ref_en": ("basic/basic_ref_en.wav", "Some call me nature, others call me mother nature.", "en"),
    "basic_ref_zh": ("basic/basic_ref_zh.wav", "", "zh"),
    "main": ("multi/main.flac", "", "en"),
    "town": ("multi/town.flac", "", "en"),
    "country": ("multi/country.flac", "", "en"),
}
RECOGNISER_RATE = 16_000


@dataclass
class Figures:
    """One engine's measurements, gathered over every voice and sentence."""

    errors: int = 0
    words: int = 0
    engine_seconds: float = 0.0
    cpu_seconds: float = 0.0
    audio_seconds: float = 0.0
    own: list[float] = field(default_factory=list)
    nearest_other: list[float] = field(default_factory=list)

    def row(self, name: str) -> str:
        nearest = sum(o > n for o, n in zip(self.own, self.nearest_other, strict=True))
        return (
            f"{name:<18}{self.errors / self.words:>7.3f}{np.mean(self.own):>8.3f}{np.mean(self.nearest_other):>9.3f}"
            f"{nearest:>6}/{len(self.own)}{self.engine_seconds / self.audio_seconds:>8.3f}"
            f"{self.cpu_seconds / self.audio_seconds:>9.3f}"
        )


Speaker = Callable[[ReferenceVoice, str], tuple[np.ndarray, int]]


def load_references() -> dict[str, ReferenceVoice]:
    references = {}
    for name, (path, transcript, language) in REFERENCES.items():
        data = importlib.resources.files("f5_tts").joinpath(EXAMPLES + path).read_bytes()
        audio, rate = sf.read(io.BytesIO(data), dtype="float32")
        audio = audio.mean(axis=1) if audio.ndim > 1 else audio
        references[name] = ReferenceVoice(name, audio, rate, transcript, language)
    return references


def recognise(decoder: Decoder, audio: np.ndarray, rate: int) -> list[str]:
    pcm = (np.clip(resample(audio, rate, RECOGNISER_RATE), -1, 1) * 32767).astype(np.int16)
    decoder.start_utt()
    decoder.process_raw(pcm.tobytes(), full_utt=True)
    decoder.end_utt()
    hypothesis = decoder.hyp()
    return re.sub(r"\(\d+\)", "", hypothesis.hypstr).split() if hypothesis else []


def word_errors(reference: list[str], hypothesis: list[str]) -> int:
    """Levenshtein distance in words (substitutions, insertions, deletions)."""
    row = list(range(len(hypothesis) + 1))
    for i, word in enumerate(reference, 1):
        previous, row[0] = row[0], i
        for j, heard in enumerate(hypothesis, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (word != heard))
    return row[-1]


def measure(
    speak: Speaker, references: dict[str, ReferenceVoice], encoder: SpeakerEncoder, decoder: Decoder
) -> Figures:
    embedded = {name: encoder.embed(voice.audio, voice.sample_rate) for name, voice in references.items()}
    figures = Figures()
    for name, voice in references.items():
        speak(voice, SENTENCES[0][0])  # warm-up: the voice's one-off preparation is not per-sentence cost
        outputs, rate = [], 0
        for text, spoken in SENTENCES:
            start, start_cpu = time.perf_counter(), time.process_time()
            audio, rate = speak(voice, text)
            figures.engine_seconds += time.perf_counter() - start
            figures.cpu_seconds += time.process_time() - start_cpu
            figures.audio_seconds += len(audio) / rate
            figures.errors += word_errors(spoken.split(), recognise(decoder, audio, rate))
            figures.words += len(spoken.split())
            outputs.append(audio)
        output = encoder.embed(np.concatenate(outputs), rate)
        figures.own.append(similarity(output, embedded[name]))
        figures.nearest_other.append(max(similarity(output, e) for other, e in embedded.items() if other != name))
    return figures


def main() -> None:
    references = load_references()
    encoder, decoder = SpeakerEncoder("cpu"), Decoder(loglevel="FATAL")
    vits, formant = VitsEngine(), FormantEngine()

    def engine_speaker(engine: VitsEngine | FormantEngine) -> Speaker:
        def speak(voice: ReferenceVoice, text: str) -> tuple[np.ndarray, int]:
            result = engine.synthesize(voice, SynthesisRequest(text))
            return result.audio, result.sample_rate

        return speak

    def unmatched(voice: ReferenceVoice, text: str) -> tuple[np.ndarray, int]:
        return vits.voice.speak(vits.phonemes(text)), vits.voice.sample_rate

    speakers = {"vits": engine_speaker(vits), "vits, unmatched": unmatched, "formant": engine_speaker(formant)}
    print(f"{len(SENTENCES)} sentences x {len(references)} voices ({', '.join(references)})")
    print(f"{'engine':<18}{'WER':>7}{'own':>8}{'other':>9}{'nearest':>8}{'RTF':>8}{'CPU RTF':>9}")
    for name, speak in speakers.items():
        print(measure(speak, references, encoder, decoder).row(name), flush=True)
    print("own: similarity to its own reference; other: to the nearest other reference (means over voices)")


if __name__ == "__main__":
    main()
