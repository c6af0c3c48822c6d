"""Findings of the security and operations review that need no worker: each answered as a
user would see it, and each failed before its fix."""

from tests.fixtures.jobs import complete
from tests.fixtures.voices import ready_clone
from voxify.repositories.jobs import JobRepository


def test_a_non_ascii_digit_in_last_event_id_starts_the_stream_from_the_beginning(alice):
    voice = ready_clone(alice)
    job = alice.post("/api/v1/job", json={"text_content": "stream", "voice_model_id": voice}).json()["data"]
    complete(job)
    headers = {**alice.headers, "Last-Event-ID": "²".encode()}  # as raw header bytes, as a client may send
    with alice.client.stream("GET", f"/api/v1/job/{job['job_id']}/progress", headers=headers) as stream:
        assert stream.status_code == 200
        assert "event: done" in "".join(stream.iter_text())


def test_a_still_running_answer_does_not_reveal_which_worker_holds_the_job(alice):
    voice = ready_clone(alice)
    queued = alice.post(
        f"/api/v1/voice/clones/{voice}/synthesize", json={"text_content": "hey"}, params={"wait": "false"}
    )
    assert queued.status_code == 202
    job_id = queued.json()["data"]["job_id"]
    JobRepository().claim(job_id, "host-1-4242-abc", lease_seconds=60)
    for answer in (alice.get(f"/api/v1/job/{job_id}"), alice.get("/api/v1/job")):
        assert "host-1-4242" not in answer.text and "claim_owner" not in answer.text
