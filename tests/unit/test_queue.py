"""Queue messages: the versioned WorkMessage and S3 upload notifications."""

import json

import pytest

from voxify.queue import WorkMessage, parse_work, upload_key


def s3_notification(*keys: str) -> str:
    return json.dumps(
        {"Records": [{"eventSource": "aws:s3", "s3": {"bucket": {"name": "b"}, "object": {"key": k}}} for k in keys]}
    )


def test_work_message_round_trip():
    message = WorkMessage(kind="synthesis", id="job-1", user_id="u1")
    assert parse_work(message.model_dump_json()) == [message]


def test_upload_notifications_name_samples_with_decoded_keys():
    assert upload_key("u1", "s1") == "uploads/u1/s1"
    work = parse_work(s3_notification("uploads/u%2B1/s1", "uploads/u2/s+2"))
    assert [(w.kind, w.user_id, w.id) for w in work] == [("sample", "u+1", "s1"), ("sample", "u2", "s 2")]


def test_s3_test_event_asks_for_nothing():
    assert parse_work(json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent"})) == []


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        json.dumps({"version": 2, "kind": "synthesis", "id": "x"}),
        json.dumps({"kind": "unknown", "id": "x"}),
        s3_notification("uploads/only-user"),
        s3_notification("elsewhere/u/s"),
    ],
)
def test_unusable_messages_raise_value_error(body):
    with pytest.raises(ValueError):
        parse_work(body)
