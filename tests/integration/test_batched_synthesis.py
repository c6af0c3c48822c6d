"""Jobs that wait together are spoken together: with F5-TTS (the tiny random model, its real
code path) a worker takes the waiting jobs in one receive, speaks those of one block in one
`synthesize_many` pass, and still finishes and settles each job on its own."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pytest
import soundfile as sf

from tests.fixtures.tiny_f5 import build_tiny_f5
from tests.fixtures.voices import processed_voice
from tests.fixtures.worker import WorkerHarness
from voxify.aws import acting_as
from voxify.domain.jobs import JobStatus
from voxify.repositories.jobs import JobRepository
from voxify.settings import get_settings
from voxify_worker.engines.f5tts import F5TTSEngine
from voxify_worker.runtime.batch_former import BatchPolicy
from voxify_worker.runtime.consumer import WorkConsumer

TEXTS = ["Good morning.", "It is raining again today.", "Please call Stella tomorrow."]


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> F5TTSEngine:
    store = build_tiny_f5(tmp_path_factory.mktemp("f5store"))
    return F5TTSEngine(Path(store), seed=7, device="cpu", nfe_steps=4)


class StopWhenEnded:
    """Stops the worker's loop once every one of the jobs has ended."""

    def __init__(self, job_ids: list[str]) -> None:
        self._job_ids = job_ids

    def is_set(self) -> bool:
        jobs = JobRepository()
        ended = {JobStatus.COMPLETED, JobStatus.FAILED}
        return all((job := jobs.get(job_id)) is not None and job.status in ended for job_id in self._job_ids)

    def wait(self, seconds: float) -> bool:
        return self.is_set()


def run_batching_worker(worker: WorkerHarness, job_ids: list[str]) -> None:
    """The jobs queue consumed as the container consumes it with F5: batches of up to 8."""
    consumer = WorkConsumer(
        worker.sqs,
        [get_settings().jobs_queue_url],
        worker.handlers,
        wait_seconds=0,
        overlap=True,
        batch=BatchPolicy(max_batch_size=8, max_wait_ms=0),
        batch_handlers=worker.batch_handlers,
    )

    def run() -> None:  # off the main thread, as the container runs it (F5 infers in threads)
        with acting_as(worker.credentials):
            consumer.run(StopWhenEnded(job_ids))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(300)
    assert not thread.is_alive()


def test_waiting_jobs_of_one_block_share_one_pass_and_each_completes_on_its_own(alice, worker):
    assert set(worker.batch_handlers) == {"synthesis"}  # F5 speaks many jobs in one pass
    voice = processed_voice(alice, worker)
    plain = [
        alice.post("/api/v1/job", json={"text_content": text, "voice_model_id": voice}).json()["data"]["job_id"]
        for text in TEXTS
    ]
    two_blocks = alice.post(
        "/api/v1/job",
        json={
            "voice_model_id": voice,
            "output_format": "flac",
            "blocks": [{"text": "First part.", "wait_after_ms": 200}, {"text": "Second part."}],
        },
    ).json()["data"]["job_id"]
    run_batching_worker(worker, [*plain, two_blocks])

    for job_id in [*plain, two_blocks]:
        job = alice.get(f"/api/v1/job/{job_id}").json()["data"]
        assert job["status"] == "completed" and job["progress"] == 100, job
        expected = 3 if job_id in plain else 1  # the two-block job speaks alone
        assert job["engine"]["name"] == "f5tts" and job["engine"]["batched_with"] == expected
        audio, rate = sf.read(io.BytesIO(alice.get(f"/api/v1/file/synthesis/{job_id}").content))
        assert abs(len(audio) / rate - job["duration_seconds"]) < 0.05
        assert job["watermark"] is not None  # marked like any output


def test_a_cancelled_job_leaves_the_pass_and_the_others_complete(alice, worker):
    voice = processed_voice(alice, worker)
    jobs = [
        alice.post("/api/v1/job", json={"text_content": text, "voice_model_id": voice}).json()["data"]["job_id"]
        for text in TEXTS
    ]
    cancelled = alice.patch(f"/api/v1/job/{jobs[1]}", json={"status": "cancelled"})  # while it waits
    assert cancelled.status_code == 200, cancelled.text
    run_batching_worker(worker, [jobs[0], jobs[2]])
    statuses = [alice.get(f"/api/v1/job/{job_id}").json()["data"] for job_id in jobs]
    assert [job["status"] for job in statuses] == ["completed", "cancelled", "completed"]
    assert [statuses[0]["engine"]["batched_with"], statuses[2]["engine"]["batched_with"]] == [2, 2]
