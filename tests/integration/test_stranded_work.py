"""No work is stranded and no worker undoes another's: redelivery while a claim is live,
attempts that write apart, the DLQ and the sweep leaving live claims alone, and jobs that
kill every worker ending after a bounded number of attempts."""

import json
import time
from datetime import timedelta

from tests.fixtures.jobs import complete
from tests.fixtures.voices import processed_voice, ready_clone
from tests.fixtures.worker import WorkerHarness
from voxify.aws import client
from voxify.domain.batches import BatchStatus
from voxify.domain.jobs import JobStatus
from voxify.logic.batches import batch_lines, ingest_manifest, reconcile_stalled_batches
from voxify.logic.jobs import fail_dead_job
from voxify.logic.recovery import sweep_stale_jobs
from voxify.queue import WorkMessage, WorkQueue
from voxify.repositories.batches import BatchRepository
from voxify.repositories.jobs import CLAIM_MARGIN_SECONDS, JobRepository, claim_expiry
from voxify.settings import get_settings
from voxify.storage import AudioStore


def queued_messages() -> dict[str, int]:
    attributes = client("sqs").get_queue_attributes(
        QueueUrl=get_settings().jobs_queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return {
        "visible": int(attributes["ApproximateNumberOfMessages"]),
        "in_flight": int(attributes["ApproximateNumberOfMessagesNotVisible"]),
    }


def test_a_claim_always_ends_before_its_message_comes_back():
    lease = get_settings().worker_lease_seconds
    received_at = time.time()  # the message's visibility ends at received_at + lease
    assert claim_expiry(lease) < received_at + lease


def test_a_redelivery_during_a_live_claim_waits_instead_of_being_deleted(alice, worker, engine):
    voice = processed_voice(alice, worker)
    job = alice.post("/api/v1/job", json={"text_content": "Held.", "voice_model_id": voice}).json()["data"]
    jobs = JobRepository()
    # another worker claims first (its message was redelivered to us after a stall); its claim lives 4 s
    assert jobs.claim(job["job_id"], "stalled-worker", lease_seconds=4 + CLAIM_MARGIN_SECONDS) is not None
    assert worker.drain() == 1
    assert queued_messages() == {"visible": 0, "in_flight": 1}  # kept, not deleted
    assert jobs.get(job["job_id"]).claim_owner == "stalled-worker"
    time.sleep(6)  # the stalled worker never comes back: its claim runs out, the message returns
    assert worker.drain() == 1
    done = jobs.get(job["job_id"])
    assert done.status == JobStatus.COMPLETED and done.attempts == 2


def test_a_taken_over_worker_cannot_delete_the_new_owners_audio(alice, worker, engine):
    voice = processed_voice(alice, worker)
    job = alice.post("/api/v1/job", json={"text_content": "Mine now.", "voice_model_id": voice}).json()["data"]
    jobs = JobRepository()
    newcomer = WorkerHarness(engine, worker_id="newcomer")
    original = worker.synthesis.engine
    calls = []

    class StallsThenLosesItsClaim:
        def synthesize(self, reference, request, progress=None, should_cancel=None, on_chunk=None):
            if not calls:  # the first worker stalls here; meanwhile its claim expires and is taken over
                calls.append(1)
                jobs.update_fields(job["job_id"], {"claim_expires": 0}, only_in=[JobStatus.PROCESSING])
                WorkQueue().send(WorkMessage(kind="synthesis", id=job["job_id"], user_id=alice.user_id))
                newcomer.synthesis.engine = original
                newcomer.drain()
            return original.synthesize(reference, request, progress, should_cancel, on_chunk)

    worker.synthesis.engine = StallsThenLosesItsClaim()
    try:
        worker.drain()
    finally:
        worker.synthesis.engine = original
    done = jobs.get(job["job_id"])
    assert done.status == JobStatus.COMPLETED and done.claim_owner is None and done.attempts == 2
    response = alice.get(f"/api/v1/file/synthesis/{job['job_id']}", params={"inline": 1})
    assert response.status_code == 200 and response.content[:4] == b"RIFF"


def test_the_dlq_leaves_a_job_a_live_worker_holds(alice, worker):
    voice = processed_voice(alice, worker)
    job = alice.post("/api/v1/job", json={"text_content": "Long.", "voice_model_id": voice}).json()["data"]
    jobs = JobRepository()
    assert jobs.claim(job["job_id"], "busy-worker", lease_seconds=60) is not None
    assert fail_dead_job(job["job_id"]) is None
    assert jobs.get(job["job_id"]).status == JobStatus.PROCESSING
    assert sweep_stale_jobs() == 0  # the sweep leaves it too


def test_a_job_that_kills_every_worker_fails_after_its_attempts(alice, worker):
    voice = processed_voice(alice, worker)
    job = alice.post("/api/v1/job", json={"text_content": "Poison.", "voice_model_id": voice}).json()["data"]
    jobs = JobRepository()
    for attempt in range(get_settings().job_max_attempts):
        assert jobs.claim(job["job_id"], f"worker-{attempt}", lease_seconds=-1) is not None  # each one dies
    assert sweep_stale_jobs() == 1
    failed = jobs.get(job["job_id"])
    assert failed.status == JobStatus.FAILED and failed.error_code == "RETRIES_EXHAUSTED"


def test_a_batch_whose_job_end_events_were_lost_is_finished_by_the_recovery(alice):
    voice = ready_clone(alice)
    assert alice.post(f"/api/v1/voice/clones/{voice}/select").status_code == 200
    batch = ingest_manifest(f"dropbox/{alice.user_id}/lost.txt", '"etag-1"', b"First line.\nSecond line.\n")
    assert batch is not None and batch.status == BatchStatus.PROCESSING
    for line in batch_lines(batch):  # the jobs end, but no "Job State Change" reaches the batch
        assert complete(JobRepository().get(line.job_id).public().model_dump()) is not None
    assert BatchRepository().get(batch.batch_id).status == BatchStatus.PROCESSING
    assert reconcile_stalled_batches(quiet_for=timedelta(0)) == 1
    finished = BatchRepository().get(batch.batch_id)
    assert finished.status == BatchStatus.COMPLETED and finished.counts().completed == 2
    report = json.loads(AudioStore().get(finished.report_key))
    assert report["status"] == "completed" and report["counts"]["pending"] == 0
    assert reconcile_stalled_batches(quiet_for=timedelta(0)) == 0  # nothing left to look at
