"""Speaker embeddings and the voice index: what they cost and what the guard's threshold rests on.

Prints, in one run:
- embedding time per clip (resemblyzer GE2E on this machine's CPU), per recording and per
  second of audio, median of several runs after a warm-up;
- similarity of the two halves of each f5-tts example recording (same speaker) against
  every cross-speaker pair, beside the configured impersonation threshold;
- nearest-voice query latency with 10,000 vectors in LanceDB, side by side on the embedded
  emulator's S3 and on a local folder: a user's own voices (the similar/search query) and
  other users' clones (the guard's query);
- what erasing one voice costs there (`VoiceIndex.delete`: the delete, the rewrite of every
  row, the pruning of older versions and, on the versioned bucket, of non-current objects),
  beside LanceDB's bare delete, which leaves the voice readable.
"""

from __future__ import annotations

import itertools
import os
import statistics
import tempfile
import time

import numpy as np

from infra.local.emulator import EmbeddedEmulator, port_is_free, use_fake_credentials
from tests.fixtures.worker import other_speaker_flac, reference_speech
from voxify.aws import client, reset_clients
from voxify.settings import get_settings
from voxify_worker.audio import decode
from voxify_worker.embeddings.encoder import EMBEDDING_MODEL, SpeakerEncoder, similarity
from voxify_worker.embeddings.index import VoiceIndex

RECORDINGS = {
    "basic_ref_en": reference_speech,
    "town": other_speaker_flac,
    "country": lambda: other_speaker_flac("country.flac"),
    "main": lambda: other_speaker_flac("main.flac"),
}
VECTORS = 10_000
USERS = 200
QUERIES = 30
EMBED_RUNS = 5
ERASURES = 5


def embedding_times(encoder: SpeakerEncoder) -> None:
    print("embedding time per clip (median of 5, after one warm-up):")
    for name, load in RECORDINGS.items():
        samples, rate = decode(load())
        encoder.embed(samples, rate)
        times = []
        for _ in range(EMBED_RUNS):
            start = time.perf_counter()
            encoder.embed(samples, rate)
            times.append(time.perf_counter() - start)
        seconds = len(samples) / rate
        median = statistics.median(times)
        print(
            f"  {name:13s} {seconds:5.2f} s of audio: {median * 1000:6.1f} ms "
            f"({median / seconds * 1000:5.1f} ms per audio second)"
        )


def threshold_scores(encoder: SpeakerEncoder) -> None:
    halves = {}
    for name, load in RECORDINGS.items():
        samples, rate = decode(load())
        middle = len(samples) // 2
        halves[name] = (encoder.embed(samples[:middle], rate), encoder.embed(samples[middle:], rate))
    same = {name: similarity(*pair) for name, pair in halves.items()}
    different = {f"{a}/{b}": similarity(halves[a][0], halves[b][1]) for a, b in itertools.permutations(halves, 2)}
    print("cosine similarity, halves of one recording (same speaker):")
    for name, score in same.items():
        print(f"  {name:13s} {score:.3f}")
    print(
        f"cross-speaker pairs: min {min(different.values()):.3f}, median "
        f"{statistics.median(different.values()):.3f}, max {max(different.values()):.3f} "
        f"({max(different, key=lambda pair: different[pair])})"
    )
    print(
        f"impersonation threshold: {get_settings().impersonation_threshold} "
        f"(lowest same-speaker {min(same.values()):.3f}, highest cross-speaker {max(different.values()):.3f})"
    )


def filled_index(uri: str) -> VoiceIndex:
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((VECTORS, 256)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = VoiceIndex(uri)
    index.add_many(
        [
            {
                "voice_id": f"v{i}",
                "user_id": f"u{i % USERS}",
                "kind": "clone" if i % 3 == 0 else "sample",
                "name": f"voice {i}",
                "model": EMBEDDING_MODEL,
                "created_at": "2026-01-01T00:00:00Z",
                "vector": vectors[i].tolist(),
            }
            for i in range(VECTORS)
        ]
    )
    return index


def query_latency(label: str, index: VoiceIndex) -> None:
    rng = np.random.default_rng(1)
    probes = rng.standard_normal((QUERIES, 256)).astype(np.float32)
    index.nearest(probes[0], 5, user_id="u0")  # opens the table
    for query, kwargs in (
        ("own voices (k=5)", {"user_id": "u7"}),
        ("guard: others' clones", {"other_than_user": "u7", "kind": "clone"}),
    ):
        times = []
        for probe in probes:
            start = time.perf_counter()
            index.nearest(probe, 5, model=EMBEDDING_MODEL, **kwargs)
            times.append(time.perf_counter() - start)
        times.sort()
        print(
            f"  {label:22s} {query:22s} p50 {statistics.median(times) * 1000:6.1f} ms  "
            f"p95 {times[int(0.95 * len(times)) - 1] * 1000:6.1f} ms"
        )


def erasure_cost(label: str, index: VoiceIndex) -> None:
    times, bare = [], []
    for i in range(ERASURES):
        start = time.perf_counter()
        index.delete(f"v{2 * i}")
        times.append(time.perf_counter() - start)
        start = time.perf_counter()
        index._run(lambda table, i=i: table.delete(f"voice_id = 'v{2 * i + 1}'"), write=True)
        bare.append(time.perf_counter() - start)
    print(
        f"  {label:22s} erase one voice: median {statistics.median(times) * 1000:7.1f} ms, "
        f"max {max(times) * 1000:7.1f} ms (a bare LanceDB delete: {statistics.median(bare) * 1000:6.1f} ms)"
    )


def search_latency() -> None:
    port = next(p for p in range(4610, 4700) if port_is_free(p))
    emulator = EmbeddedEmulator(port)
    emulator.start()
    use_fake_credentials()
    os.environ["AWS_ENDPOINT_URL"] = emulator.url
    reset_clients()
    bucket = "voxify-bench-vectors"
    client("s3").create_bucket(Bucket=bucket)
    client("s3").put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    try:
        print(f"nearest-voice query latency, {VECTORS} vectors of {USERS} users, exact search:")
        with tempfile.TemporaryDirectory() as folder:
            local = filled_index(folder)
            query_latency("local folder", local)
            on_s3 = filled_index(f"s3://{bucket}/vectors")
            query_latency("emulated S3", on_s3)
            print(f"erasing a voice from {VECTORS} vectors (the bucket versioned, as the template makes it):")
            erasure_cost("local folder", local)
            erasure_cost("emulated S3", on_s3)
    finally:
        emulator.stop()


def main() -> None:
    encoder = SpeakerEncoder("cpu")
    start = time.perf_counter()
    encoder.embed(*decode(reference_speech()))
    print(f"encoder load + first clip: {time.perf_counter() - start:.2f} s")
    embedding_times(encoder)
    threshold_scores(encoder)
    search_latency()


if __name__ == "__main__":
    main()
