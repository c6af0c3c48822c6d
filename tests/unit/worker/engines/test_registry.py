"""Which engine a worker loads: without a GPU, the neural voice for English, eSpeak for the rest."""

from __future__ import annotations

import io

import pytest
import soundfile as sf

from tests.fixtures.worker import REFERENCE_TEXT, reference_speech
from voxify_worker.engines.base import ReferenceVoice, SynthesisRequest
from voxify_worker.engines.registry import OFFLINE, OfflineEngine, chosen_engine_name, load_engine


def test_auto_without_a_gpu_is_the_offline_pair(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VOXIFY_ENGINE", raising=False)
    assert chosen_engine_name() == OFFLINE  # these machines have no CUDA device
    monkeypatch.setenv("VOXIFY_ENGINE", "vits")
    assert chosen_engine_name() == "vits"


def test_offline_pair_speaks_english_neurally_and_the_rest_with_espeak() -> None:
    samples, rate = sf.read(io.BytesIO(reference_speech()), dtype="float32")
    reference = ReferenceVoice("f5-basic-en", samples, rate, REFERENCE_TEXT)
    offline = load_engine(OFFLINE)
    assert isinstance(offline, OfflineEngine) and offline.name == "vits+formant"
    english = offline.synthesize(reference, SynthesisRequest("Good morning.", language="en-US"))
    assert english.engine == "vits" and english.model == "en_US-joe-medium+world"
    french = offline.synthesize(reference, SynthesisRequest("Bonjour à tous.", language="fr"))
    assert french.engine == "formant" and french.model.startswith("espeak-ng-")
