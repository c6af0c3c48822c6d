"""Verified voices through the API and the worker's real handlers, with real recorded speech
as the speakers: the phrase must be said, by the voice's own speaker; a verified voice is
protected from look-alikes whatever the guard's threshold; consent records are complete."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import UTC, datetime

import numpy as np
import pytest

from tests.fixtures.api import make_admin, register, reset_caches
from tests.fixtures.events import validate_event
from tests.fixtures.storage import objects
from tests.fixtures.voices import ready_clone
from tests.fixtures.worker import REFERENCE_TEXT, other_speaker_flac, reference_speech
from tests.integration.test_event_publishing import bus_queue  # noqa: F401 (a fixture)
from tests.integration.test_voice_identity import clone_of, flac, halves
from voxify.domain.verification import VerificationStatus
from voxify.domain.voices import CONSENT_STATEMENT, CONSENT_VERSION
from voxify.logic import verification
from voxify.queue import WorkMessage, WorkQueue
from voxify.repositories.runtime_config import RuntimeConfigRepository
from voxify.repositories.usage import UsageRepository
from voxify.repositories.verification import VerificationRepository
from voxify_worker.audio import decode, resample


@pytest.fixture
def reads_the_transcript(monkeypatch):
    """Challenges ask for what the f5-tts example recording says."""
    monkeypatch.setattr(verification, "choose_phrase", lambda: REFERENCE_TEXT)


def mic_recording() -> bytes:
    """The example recording as a browser would send it: 16 kHz, a little room noise."""
    samples, rate = decode(reference_speech())
    speech = resample(samples, rate, 16_000)
    noise = np.random.default_rng(7).standard_normal(speech.size).astype(np.float32) * 0.003
    return flac(speech + noise, 16_000)


def verify(user, worker, clone_id: str, recording: bytes) -> dict:
    challenge = user.post(f"/api/v1/voice/clones/{clone_id}/verification")
    assert challenge.status_code == 201, challenge.text
    sent = user.post(
        f"/api/v1/voice/clones/{clone_id}/verification/recording",
        files={"file": ("phrase.flac", recording, "audio/flac")},
    )
    assert sent.status_code == 202 and sent.json()["data"]["status"] == "pending", sent.text
    worker.drain()
    return user.get(f"/api/v1/voice/clones/{clone_id}/verification").json()["data"]


def bucket_keys(stack, emulator_endpoint, prefix: str) -> list[str]:
    _, resources = stack
    return objects(emulator_endpoint, resources.environment["VOXIFY_AUDIO_BUCKET"], prefix)


def test_the_owner_reading_the_phrase_verifies_the_voice(alice, worker, reads_the_transcript, stack, emulator_endpoint):
    clone = clone_of(alice, worker, reference_speech(), "Nature")
    assert clone["status"] == "ready" and clone["verified"] is False

    done = verify(alice, worker, clone["clone_id"], mic_recording())
    assert done["status"] == "verified", done
    assert done["phrase"] == REFERENCE_TEXT and done["word_error_rate"] <= 0.4
    assert done["speaker_similarity"] >= 0.70 and done["error_code"] is None
    badge = alice.get(f"/api/v1/voice/clones/{clone['clone_id']}").json()["data"]
    assert badge["verified"] is True and badge["verified_at"] >= done["created_at"]
    assert badge["verification"]["recording_sha256"] == hashlib.sha256(mic_recording()).hexdigest()
    assert bucket_keys(stack, emulator_endpoint, "verifications/") == []  # deleted once checked

    again = alice.post(
        f"/api/v1/voice/clones/{clone['clone_id']}/verification/recording",
        files={"file": ("phrase.flac", mic_recording(), "audio/flac")},
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "NO_CHALLENGE"

    consent = badge["consent"]
    assert consent["attested_by"] == alice.user_id and consent["attested_at"] == clone["created_at"]
    assert (consent["statement"], consent["statement_version"]) == (CONSENT_STATEMENT, CONSENT_VERSION)
    assert consent["user_agent"] and "source_ip" in consent
    sha = hashlib.sha256(reference_speech()).hexdigest()
    assert consent["samples"] == [{"sample_id": clone["sample_ids"][0], "sha256": sha}]
    assert alice.get("/api/v1/voice/consent").json()["data"] == {
        "statement": CONSENT_STATEMENT,
        "version": CONSENT_VERSION,
    }

    with zipfile.ZipFile(io.BytesIO(alice.get("/api/v1/auth/export").content)) as archive:
        (exported,) = json.loads(archive.read("consent.json"))
    assert exported["samples"][0]["sha256"] == sha and exported["statement_version"] == CONSENT_VERSION
    assert exported["verified_at"] == badge["verified_at"]
    assert exported["verification"]["phrase"] == REFERENCE_TEXT


def test_the_wrong_phrase_fails(alice, worker, monkeypatch):
    clone = clone_of(alice, worker, reference_speech(), "Nature")
    monkeypatch.setattr(verification, "choose_phrase", lambda: verification.PHRASES[0])
    done = verify(alice, worker, clone["clone_id"], mic_recording())
    assert done["status"] == "failed" and done["error_code"] == "PHRASE_MISMATCH", done
    assert done["word_error_rate"] > 0.8 and done["speaker_similarity"] >= 0.70  # the right speaker
    assert alice.get(f"/api/v1/voice/clones/{clone['clone_id']}").json()["data"]["verified"] is False


def test_another_speaker_fails(alice, worker, reads_the_transcript):
    clone = clone_of(alice, worker, other_speaker_flac("town.flac"), "Town")
    done = verify(alice, worker, clone["clone_id"], mic_recording())  # the phrase, said by someone else
    assert done["status"] == "failed" and done["error_code"] == "SPEAKER_MISMATCH", done
    assert done["word_error_rate"] <= 0.4 and done["speaker_similarity"] < 0.70
    assert alice.get(f"/api/v1/voice/clones/{clone['clone_id']}").json()["data"]["verified"] is False


def test_refusals_are_clear_and_leave_nothing_behind(alice, bob, worker, stack, emulator_endpoint):
    clone = clone_of(alice, worker, reference_speech(), "Nature")
    base = f"/api/v1/voice/clones/{clone['clone_id']}/verification"

    def send(user, data: bytes = b"") -> tuple[int, str]:
        answer = user.post(f"{base}/recording", files={"file": ("phrase.wav", data or mic_recording(), "audio/wav")})
        return answer.status_code, answer.json()["error"]["code"]

    assert send(alice) == (409, "NO_CHALLENGE")
    assert alice.get(base).status_code == 404
    assert bob.post(base).status_code == 404 and send(bob) == (404, "NOT_FOUND")  # not their voice

    challenge = alice.post(base).json()["data"]
    assert challenge["status"] == "challenged" and challenge["phrase"] in verification.PHRASES
    assert send(alice, b"not a recording at all\n" * 40) == (400, "UNSUPPORTED_AUDIO")
    assert alice.get(base).json()["data"]["status"] == "challenged"

    VerificationRepository().update(clone["clone_id"], {"challenge_expires_at": "2000-01-01T00:00:00.000Z"})
    assert send(alice) == (410, "CHALLENGE_EXPIRED")
    assert alice.get(base).json()["data"]["status"] == "challenged"
    assert bucket_keys(stack, emulator_endpoint, "verifications/") == []

    alice.post(base)
    assert alice.post(f"{base}/recording", files={"file": ("p.flac", mic_recording())}).status_code == 202
    assert send(alice) == (409, "VERIFICATION_IN_PROGRESS")
    assert alice.post(base).json()["error"]["code"] == "VERIFICATION_IN_PROGRESS"
    worker.drain()
    assert alice.get(base).json()["data"]["status"] in ("verified", "failed")


def test_a_look_alike_of_a_verified_voice_is_held_whatever_the_threshold(
    api, alice, bob, worker, reads_the_transcript, monkeypatch
):
    first_half, second_half = halves(reference_speech())
    own = clone_of(alice, worker, first_half, "Nature")
    assert verify(alice, worker, own["clone_id"], mic_recording())["status"] == "verified"

    # a guard set to let look-alikes through ...
    monkeypatch.setenv("VOXIFY_IMPERSONATION_THRESHOLD", "0.99")
    reset_caches()
    town_first, town_second = halves(other_speaker_flac("town.flac"))
    clone_of(register(api, "carol@example.com"), worker, town_first, "Town")
    assert clone_of(register(api, "dave@example.com"), worker, town_second, "Town")["status"] == "ready"

    # ... still holds a look-alike of a verified voice
    copied = clone_of(bob, worker, second_half, "Nature")
    assert copied["status"] == "needs_review", copied
    assert copied["review"]["code"] == "POSSIBLE_IMPERSONATION" and copied["review"]["threshold"] == 0.70
    admin = make_admin(api, "root@example.com")
    (held,) = admin.get("/api/v1/admin/clones").json()["data"]
    assert held["review_match"]["clone_id"] == own["clone_id"] and held["review_match"]["verified_voice"] is True


def used_today(user) -> int:
    return UsageRepository().quota_used(user.user_id, "verification", datetime.now(UTC).strftime("%Y-%m-%d"))


def test_recordings_spend_the_daily_quota_and_retries_with_a_key_answer_the_first(alice, stack, emulator_endpoint):
    clone = ready_clone(alice)
    base = f"/api/v1/voice/clones/{clone}/verification"
    RuntimeConfigRepository().update({"daily_verification_quota": 1})

    # asking for a phrase is free; a retry with the key answers the same challenge
    first = alice.post(base, headers={"Idempotency-Key": "phrase-1"})
    again = alice.post(base, headers={"Idempotency-Key": "phrase-1"})
    assert first.status_code == again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.json()["data"] == first.json()["data"] == alice.get(base).json()["data"]

    # a refused recording costs nothing
    garbage = alice.post(f"{base}/recording", files={"file": ("p.wav", b"not audio\n" * 40, "audio/wav")})
    assert garbage.status_code == 400 and used_today(alice) == 0

    def send(key: str | None = None):
        headers = {"Idempotency-Key": key} if key else {}
        return alice.post(f"{base}/recording", files={"file": ("p.flac", mic_recording())}, headers=headers)

    sent = send("recording-1")
    assert sent.status_code == 202 and sent.json()["data"]["status"] == "pending" and used_today(alice) == 1
    replayed = send("recording-1")  # a client retrying a lost answer: the same submission, no new work
    assert replayed.status_code == 202 and replayed.headers.get("Idempotent-Replayed") == "true"
    assert replayed.json()["data"] == sent.json()["data"] and used_today(alice) == 1
    other = alice.post(
        f"{base}/recording",
        files={"file": ("p.flac", b"x" + mic_recording())},
        headers={"Idempotency-Key": "recording-1"},
    )
    assert other.status_code == 422 and other.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert len(bucket_keys(stack, emulator_endpoint, "verifications/")) == 1

    # answered; a new phrase, and the day's quota is used up: refused, nothing stored
    VerificationRepository().finish(clone, {"status": VerificationStatus.FAILED.value, "error_code": "PHRASE_MISMATCH"})
    assert alice.post(base).status_code == 201
    stored = bucket_keys(stack, emulator_endpoint, "verifications/")  # the first recording, not yet deleted
    refused = send()
    error = refused.json()["error"]
    assert refused.status_code == 429 and error["code"] == "QUOTA_EXCEEDED", refused.text
    assert error["details"] == {"quota": 1, "kind": "verification"} and int(refused.headers["Retry-After"]) > 0
    assert alice.get(base).json()["data"]["status"] == "challenged" and used_today(alice) == 1
    assert bucket_keys(stack, emulator_endpoint, "verifications/") == stored

    RuntimeConfigRepository().update({"daily_verification_quota": 2})  # an administrator raises it
    assert send().status_code == 202 and used_today(alice) == 2


def verification_events(sqs, url) -> list[dict]:
    got = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages"):
        got += [json.loads(m["Body"]) for m in messages]
        sqs.delete_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
        )
    return [e for e in got if e["detail-type"] == "Voice Verification State Change"]


def test_each_answer_is_announced_once(alice, worker, reads_the_transcript, bus_queue, monkeypatch):  # noqa: F811
    sqs, url = bus_queue
    clone = clone_of(alice, worker, reference_speech(), "Nature")["clone_id"]
    verification_events(sqs, url)  # the clone's own events left out

    assert verify(alice, worker, clone, mic_recording())["status"] == "verified"
    WorkQueue().send(WorkMessage(kind="verify", id=clone, user_id=alice.user_id))  # a duplicate delivery
    worker.drain()
    (event,) = verification_events(sqs, url)
    validate_event(event)
    detail = event["detail"]
    assert (detail["clone_id"], detail["user_id"], detail["status"]) == (clone, alice.user_id, "verified")
    assert detail["verified"] is True and detail["error_code"] is None

    monkeypatch.setattr(verification, "choose_phrase", lambda: verification.PHRASES[0])
    assert verify(alice, worker, clone, mic_recording())["status"] == "failed"
    (event,) = verification_events(sqs, url)
    validate_event(event)
    assert event["detail"]["status"] == "failed" and event["detail"]["verified"] is False
    assert event["detail"]["error_code"] == "PHRASE_MISMATCH"
