"""The F5 batching benchmark runs end to end on a CPU with the tiny model (on a GPU, `make
bench` runs it at full size): every row prints."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_the_benchmark_prints_both_paths_and_each_concurrency_row() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench.f5_batching", "--tiny", "--steps", "2", "--runs", "1", "--concurrency", "1,3"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    lines = result.stdout.splitlines()
    assert any(line.strip().startswith("f5_tts.api.F5TTS.infer") and "RTF" in line for line in lines)
    assert any(line.strip().startswith("F5TTSEngine.synthesize") and "RTF" in line for line in lines)
    rows = [line.split() for line in lines if line.strip()[:1].isdigit()]
    assert [row[0] for row in rows] == ["1", "3"]
    assert all(row[-1].endswith("x") and float(row[-1][:-1]) > 0 for row in rows)
