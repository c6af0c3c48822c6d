"""A manifest's lines fan out in bulk: a transaction per chunk of jobs and SendMessageBatch
calls of ten, not a write and a send per line; what the bulk create cannot make (quota
running out part way, an earlier delivery's jobs, a refused message) ends as before."""

from collections import Counter

import pytest
from botocore.client import BaseClient

from tests.fixtures.voices import ready_clone
from voxify.aws import client
from voxify.domain.batches import BatchStatus
from voxify.domain.jobs import JobStatus
from voxify.logic import jobs as job_logic
from voxify.logic.batches import batch_lines, ingest_manifest
from voxify.logic.usage import _today
from voxify.queue import SEND_BATCH_ENTRIES, WorkQueue
from voxify.repositories.jobs import JobRepository
from voxify.repositories.runtime_config import RuntimeConfigRepository
from voxify.repositories.usage import UsageRepository
from voxify.settings import get_settings


@pytest.fixture
def calls(monkeypatch):
    """Every AWS call this process makes from here on, by (service, operation)."""
    seen: Counter[tuple[str, str]] = Counter()
    original = BaseClient._make_api_call

    def counting(self, operation, params):
        seen[(self.meta.service_model.service_name, operation)] += 1
        return original(self, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", counting)
    return seen


def manifest(lines: int) -> bytes:
    return "".join(f"Line number {i} of the manifest.\n" for i in range(1, lines + 1)).encode()


def queued() -> int:
    attributes = client("sqs").get_queue_attributes(
        QueueUrl=get_settings().jobs_queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


def selected_voice(alice) -> str:
    voice = ready_clone(alice)
    assert alice.post(f"/api/v1/voice/clones/{voice}/select").status_code == 200
    return voice


def test_a_25_line_manifest_is_one_transaction_and_three_batch_sends(alice, calls):
    selected_voice(alice)
    calls.clear()
    batch = ingest_manifest(f"dropbox/{alice.user_id}/bulk.txt", '"e1"', manifest(25))
    assert batch is not None and batch.status == BatchStatus.PROCESSING and batch.accepted == 25
    assert calls[("dynamodb", "TransactWriteItems")] == 1
    assert calls[("sqs", "SendMessageBatch")] == 3  # 10 + 10 + 5
    assert calls[("sqs", "SendMessage")] == 0
    assert calls[("dynamodb", "GetItem")] <= 5  # the owner, the voice, the config: not one per line
    assert sum(n for (service, _), n in calls.items() if service == "dynamodb") <= 10
    assert queued() == 25
    lines = batch_lines(batch)
    assert [line.line for line in lines] == list(range(1, 26)) and all(line.job_id for line in lines)
    jobs = [JobRepository().get(line.job_id) for line in lines]
    assert {job.status for job in jobs} == {JobStatus.PENDING}
    assert [job.batch_output_name for job in jobs] == [f"{i:04d}" for i in range(1, 26)]
    assert UsageRepository().quota_used(alice.user_id, "job", _today()) == 25


def test_a_chunk_the_quota_cannot_cover_goes_line_by_line(alice, monkeypatch):
    selected_voice(alice)
    monkeypatch.setattr(job_logic, "BULK_CHUNK_JOBS", 4)
    RuntimeConfigRepository().update({"daily_job_quota": 6})
    batch = ingest_manifest(f"dropbox/{alice.user_id}/quota.txt", '"e2"', manifest(8))
    assert batch is not None and batch.accepted == 6 and batch.rejected == 2
    refused = [line for line in batch_lines(batch) if line.error_code]
    assert [line.line for line in refused] == [7, 8] and {line.error_code for line in refused} == {"QUOTA_EXCEEDED"}
    assert UsageRepository().quota_used(alice.user_id, "job", _today()) == 6
    assert queued() == 6


def test_a_delivery_after_a_partial_one_makes_each_job_once(alice):
    selected_voice(alice)
    key, etag = f"dropbox/{alice.user_id}/again.txt", '"e3"'
    first = ingest_manifest(key, etag, manifest(3))
    assert first is not None
    # as if the first delivery died after its jobs, before the batch moved on
    from voxify.repositories.batches import BatchRepository

    BatchRepository().move(first.batch_id, BatchStatus.CREATING)
    again = ingest_manifest(key, etag, manifest(3))
    assert again is not None and again.accepted == 3
    assert [line.job_id for line in batch_lines(again)] == [line.job_id for line in batch_lines(first)]
    assert len(JobRepository().list_for(alice.user_id)) == 3
    assert UsageRepository().quota_used(alice.user_id, "job", _today()) == 3


def test_a_message_the_queue_refuses_fails_its_job_and_refunds_it(alice, monkeypatch):
    selected_voice(alice)
    original = WorkQueue.send_all

    def refuse_the_last(self, messages):
        return [*original(self, messages[:-1]), messages[-1]]

    monkeypatch.setattr(WorkQueue, "send_all", refuse_the_last)
    batch = ingest_manifest(f"dropbox/{alice.user_id}/refused.txt", '"e4"', manifest(3))
    assert batch is not None and batch.accepted == 2 and batch.rejected == 1
    last = batch_lines(batch)[-1]
    assert last.job_id is None and last.error_code == "QUEUE_UNAVAILABLE"
    failed = [job for job in JobRepository().list_for(alice.user_id) if job.status == JobStatus.FAILED]
    assert len(failed) == 1 and failed[0].error_code == "QUEUE_UNAVAILABLE"
    assert UsageRepository().quota_used(alice.user_id, "job", _today()) == 2


def test_send_all_keeps_to_ten_entries_a_call(stack, calls):
    from voxify.queue import WorkMessage

    messages = [WorkMessage(kind="synthesis", id=f"job_{i}") for i in range(23)]
    assert WorkQueue().send_all(messages) == []
    assert calls[("sqs", "SendMessageBatch")] == 3 and SEND_BATCH_ENTRIES == 10
    assert queued() == 23
