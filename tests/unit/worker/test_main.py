"""Each work queue gets its own pollers, so a job never waits out another queue's empty poll."""

from voxify_worker.__main__ import build_consumers


class RecordingSqs:
    def __init__(self):
        self.polled = []

    def receive_message(self, QueueUrl, **_):
        self.polled.append(QueueUrl)
        return {}


def test_every_consumer_polls_exactly_one_queue():
    sqs = RecordingSqs()
    consumers = build_consumers(sqs, ["jobs", "uploads"], {}, per_queue=2, wait_seconds=0)
    assert len(consumers) == 4
    for consumer in consumers:
        sqs.polled.clear()

        class StopAfterOnePoll:
            calls = 0

            def is_set(self):
                self.calls += 1
                return self.calls > 2

        consumer.run(StopAfterOnePoll())
        assert len(set(sqs.polled)) == 1
    assert sorted(c.queue_urls[0] for c in consumers) == ["jobs", "jobs", "uploads", "uploads"]
