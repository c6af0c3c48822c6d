"""Time formats and ids: every record, event and response writes time the same way, and
derived ids never change (a redelivered manifest or event must find its first record)."""

from datetime import UTC, datetime, timedelta, timezone

from voxify.clock import derived_id, iso, new_id, now_iso
from voxify.logic.batches import batch_id_for, line_job_id
from voxify.logic.ingest import request_job_id


def test_iso_is_utc_with_milliseconds_and_a_z():
    moment = datetime(2026, 12, 2, 4, 5, 6, 789_123, tzinfo=UTC)
    assert iso(moment) == "2026-12-02T04:05:06.789Z"
    assert iso(moment.astimezone(timezone(timedelta(hours=2)))) == "2026-12-02T04:05:06.789Z"
    assert now_iso().endswith("Z") and len(now_iso()) == len("2026-12-02T04:05:06.789Z")


def test_new_ids_carry_their_type_and_differ():
    first, second = new_id("job"), new_id("job")
    assert first.startswith("job_") and first != second


def test_derived_ids_are_the_ones_earlier_releases_made():
    assert batch_id_for("dropbox/u/a.txt", '"abc"') == "bat_7ebec3d8b9a0aadeb4ccfec995a11f4c"
    assert line_job_id("bat_1", 7) == "job_c7091562791a8c9dfb54fbc0eaa8d7d0"
    assert request_job_id("ev-1") == "job_d869ad599ed16ac0399bdc124cb25332"
    assert derived_id("x", "seed") == derived_id("x", "seed") != derived_id("x", "other")
