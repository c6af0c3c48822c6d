"""Every kind of dead message ends its work with the last error, and refunds what it cost."""

import json
from datetime import UTC, datetime
from unittest.mock import patch

from tests.fixtures.api import wav_bytes
from tests.fixtures.voices import ready_clone
from voxify.aws import client
from voxify.domain.jobs import JobStatus
from voxify.domain.voices import CloneStatus
from voxify.events import EventPublisher
from voxify.logic.dead_letters import settle_dead_letter
from voxify.queue import WorkMessage
from voxify.repositories.jobs import JobRepository
from voxify.repositories.searches import SearchRepository
from voxify.repositories.usage import UsageRepository
from voxify.repositories.verification import VerificationRepository
from voxify.repositories.voices import CloneRepository, SampleRepository
from voxify.settings import get_settings
from voxify.storage import AudioStore


def today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


def dead(kind: str, record_id: str, user_id: str) -> str:
    return settle_dead_letter(WorkMessage(kind=kind, id=record_id, user_id=user_id).model_dump_json())


def test_a_dead_job_fails_with_its_last_error_and_refunds_its_quota(alice):
    voice = ready_clone(alice)
    job = alice.post("/api/v1/job", json={"text_content": "Never.", "voice_model_id": voice}).json()["data"]
    used = UsageRepository().quota_used(alice.user_id, "job", today())
    assert dead("synthesis", job["job_id"], alice.user_id) == "job failed"
    failed = JobRepository().get(job["job_id"])
    assert failed.status == JobStatus.FAILED and failed.error_code == "RETRIES_EXHAUSTED"
    assert UsageRepository().quota_used(alice.user_id, "job", today()) == used - 1
    assert dead("synthesis", job["job_id"], alice.user_id) == "job left as it is"  # once


def test_dead_voice_work_rejects_samples_and_clones_and_fails_searches(alice):
    sample = alice.post(
        "/api/v1/voice/samples", files={"file": ("v.wav", wav_bytes(), "audio/wav")}, data={"name": "s"}
    ).json()["data"]
    used = UsageRepository().quota_used(alice.user_id, "sample", today())
    assert dead("sample", sample["sample_id"], alice.user_id) == "sample rejected"
    rejected = SampleRepository().get(sample["sample_id"])
    assert rejected.status == "rejected" and rejected.rejection_reasons[0] == "RETRIES_EXHAUSTED"
    assert UsageRepository().quota_used(alice.user_id, "sample", today()) == used - 1

    voice = ready_clone(alice)
    CloneRepository().set_status(voice, CloneStatus.PROCESSING)
    assert dead("clone", voice, alice.user_id) == "clone rejected"
    assert CloneRepository().get(voice).review["code"] == "RETRIES_EXHAUSTED"

    search = alice.get(f"/api/v1/voice/clones/{voice}/similar")  # no worker: stays pending (202)
    search_id = search.json()["data"]["search_id"]
    assert dead("search", search_id, alice.user_id) == "search failed"
    assert SearchRepository().get(search_id).status == "failed"


def test_a_dead_verification_fails_and_a_new_challenge_can_follow(alice):
    voice = ready_clone(alice)
    assert alice.post(f"/api/v1/voice/clones/{voice}/verification").status_code == 201
    sent = alice.post(
        f"/api/v1/voice/clones/{voice}/verification/recording", files={"file": ("p.wav", wav_bytes(), "audio/wav")}
    )
    assert sent.status_code == 202  # no worker: stays pending
    with patch.object(EventPublisher, "verification_changed") as announced:
        assert dead("verify", voice, alice.user_id) == "verification failed"
        failed = VerificationRepository().get(voice)
        assert failed.status == "failed" and failed.error_code == "RETRIES_EXHAUSTED"
        assert dead("verify", voice, alice.user_id) == "verification left as it is"  # once
    (call,) = announced.call_args_list
    assert call.args[0].clone_id == voice and call.args[0].status == "failed"
    assert alice.post(f"/api/v1/voice/clones/{voice}/verification").status_code == 201


def test_a_dead_manifest_notification_gets_an_error_report(alice):
    key = f"dropbox/{alice.user_id}/never.txt"
    notification = {"Records": [{"s3": {"bucket": {"name": "b"}, "object": {"key": key, "eTag": "e"}}}]}
    assert settle_dead_letter(json.dumps(notification)) == "manifest reported"
    report = json.loads(AudioStore().get(key + ".error.json"))
    assert report["error"]["code"] == "RETRIES_EXHAUSTED"


def test_a_dead_synthesis_request_is_answered_rejected(stack):
    sqs, events = client("sqs"), client("events")
    url = sqs.create_queue(QueueName="answers")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = get_settings().event_bus_name
    events.put_rule(
        Name="answers", EventBusName=bus, EventPattern=json.dumps({"detail-type": ["Synthesis Request Rejected"]})
    )
    events.put_targets(Rule="answers", EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])
    request = {
        "id": "ev-1",
        "detail-type": "Synthesis Requested",
        "source": "integrator",
        "detail": {"text": "hi", "correlation_id": "c-9"},
    }
    assert settle_dead_letter(json.dumps(request)) == "synthesis request rejected"
    answer = json.loads(sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2)["Messages"][0]["Body"])
    assert answer["detail"]["correlation_id"] == "c-9" and answer["detail"]["reason"]["code"] == "RETRIES_EXHAUSTED"


def test_garbage_is_dropped_not_retried(stack):
    assert settle_dead_letter("garbage") == "unreadable; dropped"
    assert settle_dead_letter('{"what": 1}') == "unknown message; dropped"
