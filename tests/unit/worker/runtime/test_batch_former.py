"""Batch forming with a bounded wait, on a fake clock: full batches go at once, partial ones
when their oldest request has waited max_wait_ms, nothing waits longer, order is kept."""

from __future__ import annotations

import pytest

from voxify_worker.runtime.batch_former import BatchFormer, BatchPolicy, gather


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_nothing_waiting_means_no_batch_and_no_deadline(clock):
    former: BatchFormer[str] = BatchFormer(BatchPolicy(4, 50), clock=clock)
    assert former.next_batch() is None
    assert former.wait_seconds() is None
    assert len(former) == 0


def test_a_full_batch_is_due_at_once_and_the_rest_keeps_waiting(clock):
    former: BatchFormer[int] = BatchFormer(BatchPolicy(3, 50), clock=clock)
    for request in range(5):
        former.add(request)
    assert former.wait_seconds() == 0.0
    assert former.next_batch() == [0, 1, 2]
    assert former.next_batch() is None  # two left, neither has waited 50 ms
    assert former.wait_seconds() == pytest.approx(0.050)
    assert len(former) == 2


def test_a_partial_batch_goes_when_its_oldest_request_has_waited_max_wait(clock):
    former: BatchFormer[str] = BatchFormer(BatchPolicy(8, 50), clock=clock)
    former.add("a")
    clock.now += 0.030
    former.add("b")
    assert former.next_batch() is None
    assert former.wait_seconds() == pytest.approx(0.020)  # the oldest's deadline, not the newest's
    clock.now += 0.020
    assert former.next_batch() == ["a", "b"]
    assert former.wait_seconds() is None


def test_zero_wait_means_no_batching_delay(clock):
    former: BatchFormer[str] = BatchFormer(BatchPolicy(8, 0), clock=clock)
    former.add("a")
    assert former.wait_seconds() == 0.0
    assert former.next_batch() == ["a"]


def test_keys_keep_incompatible_requests_apart_and_the_oldest_batch_goes_first(clock):
    former: BatchFormer[tuple[str, int]] = BatchFormer(BatchPolicy(2, 50), key=lambda r: r[0], clock=clock)
    former.add(("f5", 1))
    clock.now += 0.010
    former.add(("vits", 2))
    former.add(("f5", 3))  # fills the f5 batch
    assert former.next_batch() == [("f5", 1), ("f5", 3)]
    assert former.next_batch() is None
    clock.now += 0.050
    assert former.next_batch() == [("vits", 2)]


def test_the_oldest_due_batch_goes_first(clock):
    former: BatchFormer[tuple[str, int]] = BatchFormer(BatchPolicy(4, 50), key=lambda r: r[0], clock=clock)
    former.add(("b", 1))
    clock.now += 0.001
    former.add(("a", 2))
    clock.now += 0.100  # both due
    assert former.next_batch() == [("b", 1)]
    assert former.next_batch() == [("a", 2)]


def test_drain_hands_out_everything_in_bounded_batches(clock):
    former: BatchFormer[int] = BatchFormer(BatchPolicy(2, 1000), clock=clock)
    for request in range(5):
        former.add(request)
    assert former.drain() == [[0, 1], [2, 3], [4]]
    assert len(former) == 0


@pytest.mark.parametrize(("size", "wait"), [(0, 10), (2, -1)])
def test_a_policy_must_make_sense(size, wait):
    with pytest.raises(ValueError):
        BatchPolicy(size, wait)


def test_gather_waits_no_longer_than_max_wait_for_batch_mates(clock):
    arrivals = [["a"], [], ["b"]]
    timeouts: list[float] = []

    def receive(timeout: float) -> list[str]:
        timeouts.append(timeout)
        clock.now += timeout if not arrivals or not arrivals[0] else 0.010
        return arrivals.pop(0) if arrivals else []

    former: BatchFormer[str] = BatchFormer(BatchPolicy(4, 50), clock=clock)
    start = clock.now
    assert gather(receive, former, idle_wait_seconds=20) == ["a"]
    # first a long poll (nothing waiting), then only what is left of a's 50 ms
    assert timeouts[0] == 20
    assert timeouts[1] == pytest.approx(0.050)
    assert clock.now - start == pytest.approx(0.060)  # a arrived after 10 ms, then waited 50 ms
    assert gather(receive, former, idle_wait_seconds=20) == ["b"]


def test_gather_returns_a_full_batch_without_waiting_out_the_deadline(clock):
    def receive(timeout: float) -> list[int]:
        return [1, 2, 3]

    former: BatchFormer[int] = BatchFormer(BatchPolicy(2, 50), clock=clock)
    assert gather(receive, former) == [1, 2]
    assert gather(receive, former) == [3, 1]  # 3 stayed waiting; the next receive fills the batch


def test_gather_returns_nothing_after_an_idle_poll(clock):
    former: BatchFormer[str] = BatchFormer(BatchPolicy(2, 50), clock=clock)
    assert gather(lambda timeout: [], former, idle_wait_seconds=1) == []
