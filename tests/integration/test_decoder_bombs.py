"""Decoder bombs over emulated AWS with the worker's real handlers: what a header shows is
refused at upload, the rest by the worker, whose memory stays put and which goes on to
process the next sample; re-processing and searches spend the daily quota."""

from __future__ import annotations

import resource

import httpx
import psutil

from tests.fixtures.api import reset_caches, wav_bytes
from tests.fixtures.bombs import flac_bomb, ogg_vorbis_bomb
from tests.fixtures.storage import objects
from tests.fixtures.worker import reference_speech
from voxify_worker.audio.isolation import isolated_decoder

GiB = 2**30


def upload(user, data: bytes, name: str = "s"):
    return user.post("/api/v1/voice/samples", files={"file": (f"{name}.flac", data, "audio/flac")}, data={"name": name})


def presigned_upload(user, data: bytes, name: str) -> str:
    """A sample sent straight to S3: the API never sees its bytes; the bucket's notification
    queues its processing."""
    created = user.post("/api/v1/voice/samples/uploads", json={"name": name, "size_bytes": len(data)})
    assert created.status_code == 201, created.text
    form = created.json()["data"]["upload"]
    posted = httpx.post(form["url"], data=form["fields"], files={"file": ("x", data)}, timeout=60)
    assert posted.status_code in (200, 204), posted.text
    return created.json()["data"]["sample"]["sample_id"]


def sample(user, sample_id: str) -> dict:
    return user.get(f"/api/v1/voice/samples/{sample_id}").json()["data"]


def peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def test_a_bomb_its_header_shows_is_refused_at_upload(alice, stack, emulator_endpoint):
    _, resources = stack
    refused = upload(alice, flac_bomb(block=65535))  # 12 h of a constant in 450 KB, STREAMINFO says so
    assert refused.status_code == 400, refused.text
    error = refused.json()["error"]
    assert error["code"] == "UNSUPPORTED_AUDIO" and error["message"].startswith("too long: the header says 43200 s")
    assert objects(emulator_endpoint, resources.environment["VOXIFY_AUDIO_BUCKET"], "samples/") == []
    assert alice.get("/api/v1/voice/samples").json()["data"] == []


def test_bombs_the_api_cannot_see_are_rejected_by_a_worker_that_lives_on(alice, worker):
    speech = reference_speech()
    worker.drain()
    before_peak, before_now = peak_rss(), psutil.Process().memory_info().rss
    bombs = {
        # the file: 12 h of a constant in 6.2 MiB, sent past the API by presigned POST
        presigned_upload(alice, flac_bomb(), "flac"): "too long: the header says 43200 s",
        presigned_upload(alice, ogg_vorbis_bomb(), "ogg"): "too long: the header says 43199 s",
        presigned_upload(alice, b"fLaC" + bytes(range(256)) * 8, "garbage"): "STREAMINFO",
    }
    # STREAMINFO may leave the length unknown: the API lets it in; the worker counts
    unknown = upload(alice, flac_bomb(block=65535, claimed_samples=0), "unknown length")
    assert unknown.status_code == 201, unknown.text
    bombs[unknown.json()["data"]["sample_id"]] = "too long: it decodes to more than 300 s"
    worker.drain()

    for sample_id, reason in bombs.items():
        rejected = sample(alice, sample_id)
        assert rejected["status"] == "rejected", rejected
        code, message = rejected["rejection_reasons"]
        assert code in ("UNSUPPORTED_AUDIO", "CORRUPT_AUDIO") and reason in message, rejected
        assert "0x" not in message and "<" not in message
    decoder = isolated_decoder()
    assert decoder.last_peak_rss < GiB // 4, f"decoding child peaked at {decoder.last_peak_rss / 2**20:.0f} MiB"
    grown = peak_rss() - before_peak
    now = psutil.Process().memory_info().rss
    assert grown < 256 * 2**20, f"the worker's peak grew by {grown / 2**20:.0f} MiB"
    # growth, not the total: this test process also holds every earlier test's models
    assert now - before_now < 256 * 2**20, f"the worker grew to {now / 2**20:.0f} MiB"

    good = upload(alice, speech, "good")
    worker.drain()
    assert sample(alice, good.json()["data"]["sample_id"])["status"] == "ready"


def test_a_search_by_a_bomb_fails_with_its_reason(alice, worker, monkeypatch):
    monkeypatch.setenv("VOXIFY_SEARCH_WAIT_SECONDS", "0")
    reset_caches()
    long_clip = alice.post("/api/v1/voice/search", files={"file": ("q.flac", flac_bomb(seconds=40, block=65535))})
    assert long_clip.status_code == 400 and long_clip.json()["error"]["code"] == "UNSUPPORTED_AUDIO"
    assert "at most 30 s" in long_clip.json()["error"]["message"]

    pending = alice.post("/api/v1/voice/search", files={"file": ("q.flac", flac_bomb(block=65535, claimed_samples=0))})
    assert pending.status_code == 202, pending.text
    worker.drain()
    failed = alice.get(pending.headers["Location"]).json()["data"]
    assert failed["status"] == "failed"
    assert failed["error"].startswith("UNSUPPORTED_AUDIO: too long: it decodes to more than 30 s"), failed


def test_reprocessing_and_searches_spend_the_daily_quota(alice, bob, monkeypatch):
    monkeypatch.setenv("VOXIFY_DAILY_SAMPLE_QUOTA", "3")
    monkeypatch.setenv("VOXIFY_DAILY_SEARCH_QUOTA", "3")
    monkeypatch.setenv("VOXIFY_SEARCH_WAIT_SECONDS", "0")
    reset_caches()
    assert upload(alice, flac_bomb(block=65535)).status_code == 400  # a refused upload costs nothing
    created = alice.post(
        "/api/v1/voice/samples", files={"file": ("v.wav", wav_bytes(), "audio/wav")}, data={"name": "a"}
    )
    assert created.status_code == 201
    process = f"/api/v1/voice/samples/{created.json()['data']['sample_id']}/process"
    assert [alice.post(process).status_code for _ in range(3)] == [202, 202, 429]
    exhausted = alice.post(process).json()["error"]
    assert exhausted["code"] == "QUOTA_EXCEEDED" and exhausted["details"]["kind"] == "sample"

    clip = {"file": ("q.wav", wav_bytes(), "audio/wav")}
    assert bob.post("/api/v1/voice/search", files={"file": ("q.txt", b"not audio at all")}).status_code == 400
    assert [bob.post("/api/v1/voice/search", files=clip).status_code for _ in range(4)] == [202, 202, 202, 429]
    assert bob.get("/api/v1/voice/clones/vox_nothing/similar").status_code == 404  # not found: still 404
    searched_out = bob.post("/api/v1/voice/search", files=clip).json()["error"]
    assert searched_out["code"] == "QUOTA_EXCEEDED" and searched_out["details"]["kind"] == "search"
