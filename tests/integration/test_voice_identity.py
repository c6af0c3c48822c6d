"""Quality checks, speaker embeddings in LanceDB, similar-voice search and the impersonation
guard, over emulated AWS with the worker's real handlers and real recorded speech."""

import io

import numpy as np
import soundfile as sf

from tests.fixtures.api import make_admin, register, reset_caches
from tests.fixtures.storage import objects
from tests.fixtures.worker import REFERENCE_TEXT, other_speaker_flac, reference_speech
from voxify_worker.audio import decode, resample


def flac(samples: np.ndarray, rate: int) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format="FLAC")
    return buffer.getvalue()


def halves(data: bytes) -> tuple[bytes, bytes]:
    samples, rate = decode(data)
    middle = len(samples) // 2
    return flac(samples[:middle], rate), flac(samples[middle:], rate)


def upload(user, data: bytes, name: str = "s"):
    return user.post("/api/v1/voice/samples", files={"file": (f"{name}.wav", data, "audio/wav")}, data={"name": name})


def processed_sample(user, worker, data: bytes, name: str = "s") -> dict:
    created = upload(user, data, name)
    assert created.status_code == 201, created.text
    worker.drain()
    return user.get(f"/api/v1/voice/samples/{created.json()['data']['sample_id']}").json()["data"]


def clone_of(user, worker, data: bytes, name: str) -> dict:
    sample = processed_sample(user, worker, data, name)
    assert sample["status"] == "ready", sample
    created = user.post(
        "/api/v1/voice/clones",
        json={"sample_ids": [sample["sample_id"]], "name": name, "ref_text": REFERENCE_TEXT, "consent": True},
    )
    assert created.status_code == 201 and created.json()["data"]["status"] == "processing"
    worker.drain()
    return user.get(f"/api/v1/voice/clones/{created.json()['data']['clone_id']}").json()["data"]


def test_ready_samples_show_their_quality(alice, worker):
    sample = processed_sample(alice, worker, reference_speech())
    quality = sample["quality"]
    assert sample["status"] == "ready" and sample["embedding_model"] == "resemblyzer-ge2e-256"
    assert quality["score"] >= 80 and quality["sample_rate"] == 24_000
    assert set(quality) >= {
        "duration_seconds",
        "speech_ratio",
        "loudness_lufs",
        "peak_dbfs",
        "clipping_ratio",
        "snr_db",
        "spectral_flatness",
    }


def test_unusable_audio_is_rejected_with_reasons(alice, worker):
    speech, rate = decode(reference_speech())
    noise = np.random.default_rng(3).standard_normal(4 * rate).astype(np.float32) * 0.2
    cases = {
        "silence": flac(np.zeros(3 * rate, np.float32), rate),
        "too short": flac(speech[: int(0.3 * rate)], rate),
        "heavy clipping": flac(np.clip(speech * 4, -1, 1), rate),
        "too noisy": flac(noise, rate),
    }
    for reason, data in cases.items():
        sample = processed_sample(alice, worker, data, reason)
        assert sample["status"] == "rejected", (reason, sample)
        assert any(r.startswith(reason) for r in sample["rejection_reasons"]), (reason, sample)
        assert sample["quality"]["duration_seconds"] > 0


def test_corrupt_and_fake_audio_are_refused(alice, worker):
    text = upload(alice, b"these are not the samples you are looking for\n" * 20, "fake")
    assert text.status_code == 400 and text.json()["error"]["code"] == "UNSUPPORTED_AUDIO"
    damaged = upload(alice, flac_header_garbage(), "garbage")  # its header already gives it away
    assert damaged.status_code == 400 and damaged.json()["error"]["code"] == "CORRUPT_AUDIO"
    assert alice.get("/api/v1/voice/samples", params={"status": "ready"}).json()["data"] == []


def flac_header_garbage() -> bytes:
    """Starts like a FLAC file, then nothing a decoder can read."""
    return b"fLaC" + bytes(np.random.default_rng(5).integers(0, 256, 4000, dtype=np.uint8))


def test_guard_holds_the_same_voice_from_another_user_but_not_a_different_voice(api, alice, bob, worker, monkeypatch):
    first_half, second_half = halves(other_speaker_flac("town.flac"))
    original = clone_of(alice, worker, first_half, "Town")
    assert original["status"] == "ready" and original["review"] is None

    copied = clone_of(bob, worker, second_half, "Not really mine")
    assert copied["status"] == "needs_review"
    assert copied["review"]["code"] == "POSSIBLE_IMPERSONATION"
    assert copied["review"]["similarity"] >= copied["review"]["threshold"] == 0.70
    assert "review_match" not in copied and alice.user_id not in str(copied)
    for refused in (
        bob.post(f"/api/v1/voice/clones/{copied['clone_id']}/select"),
        bob.post("/api/v1/job", json={"text_content": "hello", "voice_model_id": copied["clone_id"]}),
    ):
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "VOICE_UNDER_REVIEW"

    carol = register(api, "carol@example.com")
    different = clone_of(carol, worker, other_speaker_flac("country.flac"), "Country")
    assert different["status"] == "ready"

    admin = make_admin(api, "root@example.com")
    held = admin.get("/api/v1/admin/clones").json()["data"]
    assert [c["clone_id"] for c in held] == [copied["clone_id"]]
    match = held[0]["review_match"]
    assert (match["clone_id"], match["user_id"]) == (original["clone_id"], alice.user_id)
    assert match["matched_audio"] == "reference"
    assert bob.post(f"/api/v1/admin/clones/{copied['clone_id']}/review", json={"approve": True}).status_code == 403
    approved = admin.post(
        f"/api/v1/admin/clones/{copied['clone_id']}/review",
        json={"approve": True, "note": "same person, second account"},
    )
    assert approved.status_code == 200 and approved.json()["data"]["status"] == "ready"
    assert approved.json()["data"]["review"]["decided_by"] == admin.user_id
    assert bob.post(f"/api/v1/voice/clones/{copied['clone_id']}/select").status_code == 200
    assert admin.get("/api/v1/admin/clones").json()["data"] == []


def padded(victim: bytes, padding: bytes, seconds: float) -> bytes:
    """About 10 s of the victim (their recording looped), then `seconds` of someone else:
    the engines speak from the first <= 12 s, the whole file sounds like the padding."""
    rate = 24_000
    first, first_rate = decode(victim)
    other, other_rate = decode(padding)
    first, other = resample(first, first_rate, rate), resample(other, other_rate, rate)
    gap = np.zeros(int(0.3 * rate), np.float32)
    loops = int(np.ceil(seconds * rate / len(other)))
    return flac(np.concatenate([first, gap, first, gap, *[other] * loops]), rate)


def test_a_sample_padded_with_another_voice_is_judged_by_what_it_speaks(alice, bob, worker):
    victim = clone_of(alice, worker, reference_speech(), "Mine")
    assert victim["status"] == "ready"

    data = padded(reference_speech(), other_speaker_flac("main.flac"), 60.0)
    attack = clone_of(bob, worker, data, "Padded")
    sample = bob.get(f"/api/v1/voice/samples/{attack['sample_ids'][0]}").json()["data"]
    assert sample["duration_seconds"] > 70 and sample["status"] == "ready"
    assert attack["status"] == "needs_review", attack
    assert attack["review"]["code"] == "POSSIBLE_IMPERSONATION" and attack["review"]["similarity"] >= 0.70
    # the whole upload, as the guard used to embed it, sounds like someone else
    index = worker.voices.index
    whole = index.vector(attack["sample_ids"][0])
    assert float(np.dot(whole, index.vector(victim["clone_id"]))) < 0.70


def test_decoy_clones_held_for_review_do_not_hide_the_voice_they_copy(api, alice, worker):
    first_half, second_half = halves(other_speaker_flac("town.flac"))
    victim = clone_of(alice, worker, first_half, "Town")
    assert victim["status"] == "ready"
    decoys = [clone_of(register(api, f"decoy{i}@example.com"), worker, second_half, "Town") for i in range(5)]
    assert [d["status"] for d in decoys] == ["needs_review"] * 5

    attacker = register(api, "attacker@example.com")
    attack = clone_of(attacker, worker, second_half, "Town")
    assert attack["status"] == "needs_review", attack
    admin = make_admin(api, "root@example.com")
    listed = admin.get("/api/v1/admin/clones")
    assert listed.status_code == 200, listed.text
    held = {c["clone_id"]: c for c in listed.json()["data"]}
    assert held[attack["clone_id"]]["review_match"]["clone_id"] == victim["clone_id"]


def test_refused_clones_leave_the_voice_index(api, alice, bob, worker):
    first_half, second_half = halves(other_speaker_flac("town.flac"))
    original = clone_of(alice, worker, first_half, "Town")
    copied = clone_of(bob, worker, second_half, "Town")
    assert copied["status"] == "needs_review"
    index = worker.voices.index
    assert index.vector(copied["clone_id"]) is not None  # kept while held: an approval must find it

    admin = make_admin(api, "root@example.com")
    refused = admin.post(f"/api/v1/admin/clones/{copied['clone_id']}/review", json={"approve": False})
    assert refused.status_code == 200 and refused.json()["data"]["status"] == "rejected"
    worker.drain()
    carol = register(api, "carol@example.com")
    again = clone_of(carol, worker, second_half, "Town")
    assert again["status"] == "needs_review"
    assert index.vector(copied["clone_id"]) is None
    assert index.vector(original["clone_id"]) is not None


def test_a_voice_uploaded_only_as_a_sample_is_protected(api, alice, bob, worker):
    first_half, second_half = halves(other_speaker_flac("town.flac"))
    own = processed_sample(alice, worker, first_half, "me")
    assert own["status"] == "ready"

    copied = clone_of(bob, worker, second_half, "Town")
    assert copied["status"] == "needs_review", copied
    assert copied["review"]["similarity"] >= 0.70 and alice.user_id not in str(copied)
    admin = make_admin(api, "root@example.com")
    (held,) = admin.get("/api/v1/admin/clones").json()["data"]
    assert (held["review_match"]["sample_id"], held["review_match"]["user_id"]) == (own["sample_id"], alice.user_id)

    # a voice someone else is waiting on never blocks its real owner; other voices pass
    mine = alice.post(
        "/api/v1/voice/clones",
        json={"sample_ids": [own["sample_id"]], "name": "Me", "ref_text": REFERENCE_TEXT, "consent": True},
    )
    worker.drain()
    assert alice.get(f"/api/v1/voice/clones/{mine.json()['data']['clone_id']}").json()["data"]["status"] == "ready"
    assert clone_of(register(api, "carol@example.com"), worker, other_speaker_flac("country.flac"), "C")["status"] == (
        "ready"
    )


def test_similar_voices_and_search_by_clip(alice, bob, worker):
    town_first, town_second = halves(other_speaker_flac("town.flac"))
    town = clone_of(alice, worker, town_first, "Town")
    country = clone_of(alice, worker, other_speaker_flac("country.flac"), "Country")
    clone_of(alice, worker, other_speaker_flac("main.flac"), "Main")
    extra_town = processed_sample(alice, worker, town_second, "town again")
    clone_of(bob, worker, reference_speech(), "Bob's")

    with worker.in_background():
        similar = alice.get(f"/api/v1/voice/clones/{town['clone_id']}/similar", params={"k": 3})
        search = alice.post(
            "/api/v1/voice/search", files={"file": ("q.flac", town_second, "audio/flac")}, data={"k": "2"}
        )
    assert similar.status_code == 200, similar.text
    results = similar.json()["data"]["results"]
    assert len(results) == 3 and results[0]["voice_id"] == extra_town["sample_id"]
    assert town["clone_id"] not in {r["voice_id"] for r in results}  # not itself, nor its own sample
    assert all(r["voice_id"].startswith(("vox_", "smp_")) for r in results)
    assert [r["similarity"] for r in results] == sorted((r["similarity"] for r in results), reverse=True)

    assert search.status_code == 200, search.text
    found = search.json()["data"]
    assert found["status"] == "completed" and found["source"] == "clip"
    assert {r["voice_id"] for r in found["results"]} == {town["clone_id"], extra_town["sample_id"]}
    assert alice.get(f"/api/v1/voice/searches/{found['search_id']}").json()["data"] == found
    assert bob.get(f"/api/v1/voice/searches/{found['search_id']}").status_code == 404
    assert bob.get(f"/api/v1/voice/clones/{country['clone_id']}/similar").status_code == 404
    bad = alice.post("/api/v1/voice/search", files={"file": ("q.wav", b"just text", "audio/wav")})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "UNSUPPORTED_AUDIO"


def test_deleting_voices_removes_their_embeddings(alice, worker):
    clone = clone_of(alice, worker, reference_speech(), "Gone soon")
    index = worker.voices.index
    assert index.vector(clone["clone_id"]) is not None
    assert index.vector(clone["sample_ids"][0]) is not None
    assert alice.delete(f"/api/v1/voice/clones/{clone['clone_id']}").status_code == 200
    assert alice.delete(f"/api/v1/voice/samples/{clone['sample_ids'][0]}").status_code == 200
    worker.drain()
    assert index.vector(clone["clone_id"]) is None and index.vector(clone["sample_ids"][0]) is None


def test_a_slow_search_answers_202_and_can_be_polled(alice, worker, monkeypatch, stack, emulator_endpoint):
    clone = clone_of(alice, worker, reference_speech(), "Mine")
    monkeypatch.setenv("VOXIFY_SEARCH_WAIT_SECONDS", "0")
    reset_caches()
    pending = alice.post(
        "/api/v1/voice/search", files={"file": ("q.flac", halves(reference_speech())[0], "audio/flac")}
    )
    assert pending.status_code == 202 and pending.json()["data"]["status"] == "pending"
    location = pending.headers["Location"]
    worker.drain()
    done = alice.get(location).json()["data"]
    assert done["status"] == "completed"
    found = [r["voice_id"] for r in done["results"]]
    assert found[0] == clone["clone_id"] and clone["sample_ids"][0] not in found  # the voice, once
    _, resources = stack
    assert objects(emulator_endpoint, resources.environment["VOXIFY_AUDIO_BUCKET"], "searches/") == []


def test_clone_and_search_leave_nothing_behind_when_the_queue_is_down(
    alice, worker, monkeypatch, stack, emulator_endpoint
):
    sample = processed_sample(alice, worker, reference_speech())
    monkeypatch.setenv("VOXIFY_UPLOADS_QUEUE_URL", "http://127.0.0.1:1/000000000000/missing")
    reset_caches()
    clone = alice.post(
        "/api/v1/voice/clones",
        json={"sample_ids": [sample["sample_id"]], "name": "Lost", "ref_text": REFERENCE_TEXT, "consent": True},
    )
    assert clone.status_code == 503 and clone.json()["error"]["code"] == "QUEUE_UNAVAILABLE"
    assert alice.get("/api/v1/voice/clones").json()["data"] == []
    search = alice.post("/api/v1/voice/search", files={"file": ("q.wav", reference_speech(), "audio/wav")})
    assert search.status_code == 503
    _, resources = stack
    assert objects(emulator_endpoint, resources.environment["VOXIFY_AUDIO_BUCKET"], "searches/") == []
