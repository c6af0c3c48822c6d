"""Progress writes are coalesced (at most one a PROGRESS_MIN_INTERVAL_SECONDS per job, the
claim counting as the first), and cancellation checks answer from a recent confirmation."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest

from voxify.domain.jobs import JobStatus
from voxify_worker.work.synthesis import PROGRESS_MIN_INTERVAL_SECONDS, JobAbandoned, ProgressReporter


@dataclass
class FakeJobs:
    """The two calls a reporter makes, recorded; `ours` says whether the claim still holds."""

    ours: bool = True
    writes: list[tuple[int, str]] = field(default_factory=list)
    reads: int = 0

    def report_progress(self, job_id: str, owner: str, percent: int, message: str) -> bool:
        self.writes.append((percent, message))
        return self.ours

    def get(self, job_id: str) -> SimpleNamespace:
        self.reads += 1
        status = JobStatus.PROCESSING if self.ours else JobStatus.CANCELLED
        return SimpleNamespace(status=status, claim_owner="w")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def reporter(jobs: FakeJobs, clock: Clock) -> ProgressReporter:
    return ProgressReporter(SimpleNamespace(jobs=jobs, worker_id="w"), "job_1", clock=clock)  # type: ignore[arg-type]


def test_at_most_one_write_per_interval_forced_or_not():
    jobs, clock = FakeJobs(), Clock()
    report = reporter(jobs, clock)
    report(1, "preparing the voice", force=True)  # right after the claim: left out
    clock.now += PROGRESS_MIN_INTERVAL_SECONDS / 2
    report(40, "sentence 1 of 2")
    report(85, "encoding", force=True)
    assert jobs.writes == []
    clock.now += PROGRESS_MIN_INTERVAL_SECONDS
    report(90, "sentence 2 of 2")
    report(96, "uploading", force=True)  # just after a write: left out
    assert jobs.writes == [(90, "sentence 2 of 2")] and report.writes == 1
    clock.now += PROGRESS_MIN_INTERVAL_SECONDS
    report(120, "uploading", force=True)
    assert jobs.writes[-1] == (99, "uploading")  # clamped below 100: only completion says 100


def test_cancellation_checks_read_the_job_at_most_once_per_interval():
    jobs, clock = FakeJobs(), Clock()
    report = reporter(jobs, clock)
    assert not report.cancelled() and jobs.reads == 0  # the claim just confirmed it
    clock.now += PROGRESS_MIN_INTERVAL_SECONDS
    assert not report.cancelled() and jobs.reads == 1
    assert not report.cancelled() and jobs.reads == 1  # confirmed a moment ago
    jobs.ours = False  # the user cancels
    clock.now += PROGRESS_MIN_INTERVAL_SECONDS
    assert report.cancelled() and jobs.reads == 2
    assert report.cancelled() and jobs.reads == 3  # a lost job is never answered from memory


def test_a_write_refused_abandons_the_job():
    jobs, clock = FakeJobs(ours=False), Clock()
    report = reporter(jobs, clock)
    clock.now += PROGRESS_MIN_INTERVAL_SECONDS
    with pytest.raises(JobAbandoned):
        report(50, "sentence 1 of 1")
