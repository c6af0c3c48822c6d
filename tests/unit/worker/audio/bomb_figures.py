"""Figures for decoder bombs: `python -m tests.unit.worker.audio.bomb_figures` (not a test).

Prints, per file: what the old whole-file read (`sf.read`, then a mean over channels) costs
on a 1 h constant FLAC (in a child, so this process stays small), and what the bounded,
isolated decoder answers and costs on the bombs of tests/fixtures/bombs.py: the child's peak
RSS, the growth of this process's peak RSS, and the time. Then the cost of starting a
decoding child and of a decode through it against one in process.
"""

from __future__ import annotations

import io
import resource
import subprocess
import sys
import time

import numpy as np
import soundfile as sf

from tests.fixtures.bombs import flac_bomb, ogg_vorbis_bomb, wav_header_claiming
from tests.fixtures.worker import reference_speech
from voxify_worker.audio import AudioError, decode
from voxify_worker.audio.isolation import IsolatedDecoder

MiB = 2**20
OLD_READ = """
import io, sys, soundfile as sf, numpy as np
data = sys.stdin.buffer.read()
samples, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
mono = samples.mean(axis=1, dtype=np.float32)
peak = [l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1]
print(f"{len(mono) / rate:.0f} s decoded, peak RSS {int(peak) / 1024:.0f} MiB")
"""


def peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def main() -> None:
    hour = flac_bomb(seconds=3600)
    old = subprocess.run([sys.executable, "-c", OLD_READ], input=hour, capture_output=True, check=False)
    print(f"old whole read, 1 h constant FLAC ({len(hour) / MiB:.2f} MiB): {old.stdout.decode().strip()}")
    print("  (12 h, the issue's file, is 12 times that: past any worker's memory)")

    bombs = {
        "FLAC constant 12 h, STREAMINFO honest": flac_bomb(),
        "FLAC constant 12 h, length unknown": flac_bomb(block=65535, claimed_samples=0),
        "FLAC constant 12 h, STREAMINFO says 10 s": flac_bomb(block=65535, claimed_samples=441_000),
        "Ogg Vorbis silence 12 h": ogg_vorbis_bomb(),
        "Ogg Vorbis silence 12 h, last page says 5 s": ogg_vorbis_bomb(claimed_seconds=5),
        "WAV header claiming 2^31 frames": wav_header_claiming(2**31, b"\x80" * 16_000),
    }
    decoder = IsolatedDecoder()
    try:
        for name, data in bombs.items():
            before, started = peak_rss(), time.perf_counter()
            try:
                samples, rate = decoder.decode(data, 300.0)
                outcome = f"decoded {len(samples) / rate:.1f} s"
            except AudioError as error:
                outcome = f"{error.code.value}: {error}"
            took = time.perf_counter() - started
            print(f"{name} ({len(data) / MiB:.2f} MiB): {outcome}")
            child, grown = decoder.last_peak_rss / MiB, (peak_rss() - before) / MiB
            print(f"  child peak RSS {child:.0f} MiB, parent peak grew {grown:.0f} MiB, {took * 1000:.0f} ms")
    finally:
        decoder.close()

    starts = []
    for _ in range(5):
        fresh = IsolatedDecoder()
        fresh.decode(reference_speech(), 300.0)
        starts.append(fresh.last_start_seconds)
        fresh.close()
    print(f"starting a decoding child: {np.median(starts) * 1000:.0f} ms (median of 5)")

    speech = reference_speech()
    long_file = io.BytesIO()
    sf.write(long_file, np.resize(decode(speech)[0], 299 * 24_000), 24_000, format="FLAC")
    decoder = IsolatedDecoder()
    try:
        for name, data in (("5.3 s WAV", speech), ("299 s FLAC at 24 kHz", long_file.getvalue())):
            decoder.decode(data, 300.0)  # the child is started and warm
            inside = _median(lambda data=data: decode(data, 300.0))
            isolated = _median(lambda data=data: decoder.decode(data, 300.0))
            print(f"{name}: in process {inside * 1000:.1f} ms, in the child {isolated * 1000:.1f} ms")
    finally:
        decoder.close()


def _median(work: object) -> float:
    times = []
    for _ in range(5):
        started = time.perf_counter()
        work()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return float(np.median(times))


if __name__ == "__main__":
    main()
