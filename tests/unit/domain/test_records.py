"""Stored records and the public views built from them: internal fields never leave."""

from voxify.domain.batches import BatchLine, BatchRecord, BatchStatus
from voxify.domain.jobs import Job, JobRecord, JobStatus, rate_problem
from voxify.domain.users import UserRecord
from voxify.domain.voices import CloneRecord, CloneStatus
from voxify.domain.webhooks import WebhookRecord, WebhookStatus

NOW = "2026-12-02T04:00:00.000Z"


def job(**fields) -> JobRecord:
    base = {
        "job_id": "job_1",
        "user_id": "usr_1",
        "status": JobStatus.PENDING,
        "voice_model_id": "vox_1",
        "blocks": [{"text": "Hello there."}, {"text": "Again.", "wait_after_ms": 200}],
        "text_language": "en",
        "output_format": "wav",
        "sample_rate": 24000,
        "speed": 1.0,
        "pitch": 0.0,
        "volume": 1.0,
        "config": {},
        "created_at": NOW,
        "updated_at": NOW,
    }
    return JobRecord.model_validate({**base, **fields})


def test_a_jobs_public_view_leaves_claims_and_versions_behind():
    record = job(
        claim_owner="host-1-123", claim_expires=99, progress_version=7, last_error="boom", correlation_id="c-1"
    )
    public = record.public()
    assert type(public) is Job
    dumped = public.model_dump()
    assert not {"claim_owner", "claim_expires", "progress_version", "last_error", "batch_counted"} & set(dumped)
    assert dumped["blocks"][1]["wait_after_ms"] == 200


def test_a_listing_without_text_blanks_every_block():
    public = job().public(include_text=False)
    assert [block.text for block in public.blocks] == [None, None]
    assert job().text == "Hello there. Again."


def test_terminal_states_and_rates_per_format():
    assert [s for s in JobStatus if s.is_terminal] == [JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED]
    assert rate_problem("mp3", 22050) is None
    assert rate_problem("mp3", 23000) is not None
    assert rate_problem("wav", 23000) is None


def test_batch_counts_follow_its_outcome_counters():
    batch = BatchRecord(
        batch_id="bat_1",
        user_id="usr_1",
        status=BatchStatus.PROCESSING,
        manifest_key="k",
        output_prefix="p/",
        total_lines=5,
        accepted=4,
        rejected=1,
        completed=2,
        failed=1,
        created_at=NOW,
        updated_at=NOW,
    )
    counts = batch.counts()
    assert (counts.lines, counts.accepted, counts.rejected, counts.pending) == (5, 4, 1, 1)
    assert batch.ended_jobs == 3
    lines = [BatchLine(line=1, output_name="0001", job_id="job_1")]
    assert batch.public().lines is None and batch.public(lines=lines).lines == lines
    creating = batch.model_copy(update={"status": BatchStatus.CREATING})
    assert creating.counts().pending == 0


def test_secrets_stay_in_records():
    user = UserRecord(
        user_id="usr_1",
        email="a@example.com",
        first_name="A",
        last_name="B",
        password_hash="$argon2id$...",
        created_at=NOW,
        updated_at=NOW,
    )
    assert "password_hash" not in user.public().model_dump()
    hook = WebhookRecord(
        webhook_id="whk_1",
        user_id="usr_1",
        url="https://example.com/h",
        events=["*"],
        secret="whsec_x",
        status=WebhookStatus.ACTIVE,
        created_at=NOW,
        updated_at=NOW,
    )
    assert "secret" not in hook.public().model_dump() and hook.with_secret().secret == "whsec_x"
    assert hook.wants("Job State Change")
    clone = CloneRecord(
        clone_id="vox_1",
        user_id="usr_1",
        name="n",
        sample_ids=["smp_1"],
        ref_text="hi",
        language="en",
        status=CloneStatus.NEEDS_REVIEW,
        reference_key="k",
        consent={},
        review_match={"clone_id": "vox_2", "user_id": "usr_2"},
        created_at=NOW,
        updated_at=NOW,
    )
    assert "review_match" not in clone.public().model_dump()
    assert clone.admin_view().review_match == {"clone_id": "vox_2", "user_id": "usr_2"}
