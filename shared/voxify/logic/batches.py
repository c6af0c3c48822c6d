"""Drop-folder batches: a manifest under `dropbox/{user_id}/` becomes one job per line.

Idempotent end to end: the batch id is derived from the manifest's key and ETag and each
line's job id from the batch id and line number, so a manifest delivered twice (or a
half-done delivery retried) creates one batch and one job per line, never two.

Batch progress follows the jobs' own "Job State Change" events (a bus rule sends the ends of
drop-folder jobs to the batches function): each finished job's audio is copied to
`outputs/{user}/batches/{batch}/{name}.{fmt}` and counted once; the last one writes
`manifest.jsonl` and `report.json` there. A batch is `creating` while its jobs are being
made, `processing` until every job has ended, then `completed`, `completed_with_errors`
or `failed` (no line could run).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from voxify.clock import derived_id, iso, new_id, now_iso
from voxify.domain.batches import OUTCOMES, BatchLine, BatchRecord, BatchStatus
from voxify.domain.jobs import JobRecord, JobStatus
from voxify.domain.users import UserRecord
from voxify.errors import ErrorCode, VoxifyError, found
from voxify.events import EventPublisher
from voxify.logic.jobs import BulkJob, find_job, submit_job, submit_jobs
from voxify.logic.manifests import ManifestError, ManifestLine, output_name, parse_manifest
from voxify.observability import logger
from voxify.repositories.batches import BatchRepository
from voxify.repositories.users import UserRepository
from voxify.storage import CONTENT_TYPES, AudioStore, batch_prefix, dropbox_prefix

ERROR_REPORT_SUFFIX = ".error.json"
BATCH_QUIET_BEFORE_RECONCILE = timedelta(minutes=5)


class ManifestEntry(BaseModel):
    """One line of a finished batch's manifest.jsonl."""

    line: int
    job_id: str | None
    status: str
    output_key: str | None = None
    duration_seconds: float | None = None
    error_code: str | None = None
    error_message: str | None = None


def batch_id_for(key: str, etag: str) -> str:
    return derived_id("bat", f"{key}\n{etag.strip(chr(34))}")


def line_job_id(batch_id: str, line: int) -> str:
    return derived_id("job", f"{batch_id}:{line}")


def manifest_upload(user_id: str, fmt: str, size_bytes: int) -> dict[str, Any]:
    """A presigned POST into the user's own drop folder; the batch starts when it lands."""
    key = f"{dropbox_prefix(user_id)}{new_id('mf')}.{fmt}"
    return {"manifest_key": key, "upload": AudioStore().presigned_post(key, size_bytes)}


def get_batch(user_id: str, batch_id: str) -> BatchRecord:
    return found(BatchRepository().get_owned(batch_id, user_id), "batch")


def batch_lines(batch: BatchRecord) -> list[BatchLine]:
    """Each manifest line's job or error, as made when the batch was created."""
    if not batch.lines_key:
        return []
    return [BatchLine.model_validate_json(row) for row in AudioStore().get(batch.lines_key).splitlines() if row]


def _store_lines(batch: BatchRecord, lines: list[BatchLine]) -> str:
    key = f"{batch.output_prefix}lines.jsonl"
    AudioStore().put(key, "".join(line.model_dump_json() + "\n" for line in lines).encode(), "application/x-ndjson")
    return key


def list_batches(user_id: str) -> list[BatchRecord]:
    return BatchRepository().list_for(user_id)


def ingest_manifest(key: str, etag: str, data: bytes) -> BatchRecord | None:
    """The batch for this manifest (made now, or earlier for the same ETag); None when the
    manifest cannot be a batch, in which case an error report is written beside it."""
    if key.endswith(ERROR_REPORT_SUFFIX):
        return None  # our own report, announced by the same bucket notification
    user = _manifest_owner(key)
    if user is None:
        _error_report(key, ErrorCode.UNKNOWN_USER, "the manifest's folder names no active user: dropbox/{user_id}/...")
        return None
    try:
        lines = parse_manifest(key, data)
    except ManifestError as error:
        _error_report(key, error.code, error.message)
        return None
    batch = _batch_once(user.user_id, key, etag, len(lines))
    if batch.status != BatchStatus.CREATING:
        logger.info("manifest delivered again; its batch exists", extra={"batch_id": batch.batch_id})
        return batch
    results = _create_line_jobs(batch, lines)
    accepted = sum(1 for r in results if r.job_id)
    changes = {
        "lines_key": _store_lines(batch, results),
        "accepted": accepted,
        "rejected": len(results) - accepted,
    }
    batch = BatchRepository().move(batch.batch_id, BatchStatus.PROCESSING, changes) or batch
    logger.info("batch created", extra={"batch_id": batch.batch_id, "accepted": accepted, "lines": len(results)})
    return _finish_if_done(batch)


def _manifest_owner(key: str) -> UserRecord | None:
    """The active user whose drop folder (`dropbox/{user_id}/...`) holds the manifest."""
    parts = key.split("/")
    user = UserRepository().get(parts[1]) if len(parts) >= 3 and parts[0] == "dropbox" else None
    return user if user and not user.disabled else None


def _batch_once(user_id: str, key: str, etag: str, lines: int) -> BatchRecord:
    """This manifest's batch: made now (and announced), or found as an earlier delivery made it."""
    batches = BatchRepository()
    batch_id = batch_id_for(key, etag)
    now = now_iso()
    record = BatchRecord(
        batch_id=batch_id,
        user_id=user_id,
        manifest_key=key,
        manifest_etag=etag,
        status=BatchStatus.CREATING,
        total_lines=lines,
        output_prefix=batch_prefix(user_id, batch_id),
        created_at=now,
        updated_at=now,
    )
    if batches.create(record):
        EventPublisher().batch_changed(record)
        return record
    return found(batches.get(batch_id), "batch")


def _create_line_jobs(batch: BatchRecord, lines: list[ManifestLine]) -> list[BatchLine]:
    """Every line's job, made in bulk (`submit_jobs`: a transaction per chunk of lines and
    their messages ten at a time); a chunk the bulk create could not make (an earlier
    delivery made some of its jobs, or the quota ran out part way) goes a line at a time."""
    wanted = {
        line.line: BulkJob(line_job_id(batch.batch_id, line.line), line.request, _name(line))
        for line in lines
        if line.request is not None
    }
    outcomes = submit_jobs(batch.user_id, list(wanted.values()), source="dropfolder", batch_id=batch.batch_id)
    made = dict(zip(wanted, outcomes, strict=True))
    results = []
    for line in lines:
        outcome = made.get(line.line)
        if outcome is None:  # an error line, or a job to make alone
            results.append(_create_line_job(batch, line))
            continue
        result = BatchLine(line=line.line, output_name=_name(line))
        if isinstance(outcome, VoxifyError):
            result = result.model_copy(update={"error_code": outcome.code.value, "error_message": outcome.message})
        else:
            result = result.model_copy(update={"job_id": outcome.job_id})
        results.append(result)
    return results


def _name(line: ManifestLine) -> str:
    return output_name(line.line, line.output_name)


def _create_line_job(batch: BatchRecord, line: ManifestLine) -> BatchLine:
    """One line's job (created now, or found from an earlier delivery), or its error."""
    name = output_name(line.line, line.output_name)
    result = BatchLine(line=line.line, output_name=name, error_code=line.error_code, error_message=line.error_message)
    if line.request is None:
        return result
    job_id = line_job_id(batch.batch_id, line.line)
    if find_job(job_id) is None:
        try:
            submit_job(
                batch.user_id,
                line.request,
                source="dropfolder",
                batch_id=batch.batch_id,
                job_id=job_id,
                batch_output_name=name,
            )
        except VoxifyError as error:
            return result.model_copy(update={"error_code": error.code.value, "error_message": error.message})
    return result.model_copy(update={"job_id": job_id})


def record_job_outcome(batch_id: str | None, job_id: str, status: JobStatus) -> None:
    """A drop-folder job ended: copy its audio into the batch folder, count it, and finish
    the batch if it was the last. The job's record decides, not the event announcing it:
    an event that claims an end the record does not show (forged, or for another batch)
    counts nothing."""
    if not batch_id or status not in OUTCOMES:
        return
    job = find_job(job_id)
    batches = BatchRepository()
    batch = batches.get(batch_id)
    if job is None or batch is None or job.batch_id != batch_id or job.status != status:
        return
    if status == JobStatus.COMPLETED and job.output_key:
        AudioStore().copy(job.output_key, _line_output_key(batch, job))
    if batches.count_outcome(batch_id, job_id, status):
        _finish_if_done(batches.get(batch_id) or batch)


def _line_output_key(batch: BatchRecord, job: JobRecord) -> str:
    return f"{batch.output_prefix}{job.batch_output_name}.{job.output_format}"


def _finish_if_done(batch: BatchRecord) -> BatchRecord:
    """Once every accepted line's job has ended: write the manifest and the report, then end
    the batch. Files first, so a batch marked finished always has its report; of writers
    racing here only the one whose conditional status change succeeds announces it (the
    files they wrote are the same)."""
    if batch.status != BatchStatus.PROCESSING or batch.ended_jobs < batch.accepted:
        return batch
    entries = [
        _manifest_entry(batch, line, find_job(line.job_id) if line.job_id else None) for line in batch_lines(batch)
    ]
    errors = [{"line": e.line, "code": e.error_code, "message": e.error_message} for e in entries if e.error_code]
    ended = batch.model_copy(
        update={
            "status": _final_status(batch, errors),
            "finished_at": now_iso(),
            "report_key": f"{batch.output_prefix}report.json",
        }
    )
    _write_outcome(ended, entries, errors)
    finished = BatchRepository().move(
        batch.batch_id,
        ended.status,
        {"finished_at": ended.finished_at, "report_key": ended.report_key},
        expected_status=[BatchStatus.PROCESSING],
    )
    if finished is None:
        return BatchRepository().get(batch.batch_id) or batch
    EventPublisher().batch_changed(finished)
    logger.info("batch finished", extra={"batch_id": batch.batch_id, "status": finished.status.value})
    return finished


def _final_status(batch: BatchRecord, errors: list[dict[str, Any]]) -> BatchStatus:
    if not batch.accepted:
        return BatchStatus.FAILED
    return BatchStatus.COMPLETED_WITH_ERRORS if errors else BatchStatus.COMPLETED


def _write_outcome(batch: BatchRecord, entries: list[ManifestEntry], errors: list[dict[str, Any]]) -> None:
    """`manifest.jsonl` (a line per manifest line) and `report.json` in the batch folder."""
    store = AudioStore()
    store.put(
        f"{batch.output_prefix}manifest.jsonl",
        "".join(e.model_dump_json() + "\n" for e in entries).encode(),
        "application/x-ndjson",
    )
    report = {
        "batch_id": batch.batch_id,
        "manifest_key": batch.manifest_key,
        "status": batch.status.value,
        "counts": batch.counts().model_dump(),
        "errors": errors,
        "created_at": batch.created_at,
        "finished_at": batch.finished_at,
    }
    assert batch.report_key is not None
    store.put(batch.report_key, json.dumps(report, indent=2).encode(), CONTENT_TYPES["json"])


def reconcile_stalled_batches(quiet_for: timedelta = BATCH_QUIET_BEFORE_RECONCILE) -> int:
    """Batches still processing long after their last change may have missed a job's end
    event (events are best effort): count every ended job from the job records themselves
    (counting is once per job, so an event arriving later changes nothing) and finish the
    batch if that was all. Returns how many batches were looked at."""
    cutoff = iso(datetime.now(UTC) - quiet_for)
    stalled = [b for b in BatchRepository().list_in_state(BatchStatus.PROCESSING) if b.updated_at < cutoff]
    for batch in stalled:
        for line in batch_lines(batch):
            job = find_job(line.job_id) if line.job_id else None
            if job is not None and job.status in OUTCOMES and job.batch_counted is None:
                record_job_outcome(batch.batch_id, job.job_id, job.status)
        _finish_if_done(BatchRepository().get(batch.batch_id) or batch)
    return len(stalled)


def _manifest_entry(batch: BatchRecord, line: BatchLine, job: JobRecord | None) -> ManifestEntry:
    if job is None:
        return ManifestEntry(
            line=line.line,
            job_id=line.job_id,
            status="rejected",
            error_code=line.error_code,
            error_message=line.error_message,
        )
    completed = job.status == JobStatus.COMPLETED
    return ManifestEntry(
        line=line.line,
        job_id=line.job_id,
        status=job.status.value,
        output_key=_line_output_key(batch, job) if completed else None,
        duration_seconds=job.duration_seconds if completed else None,
        error_code=job.error_code,
        error_message=job.error_message,
    )


def report_unprocessable_manifest(key: str, reason: str) -> None:
    """The manifest's notification died in its DLQ: say so beside it, as for any refusal."""
    _error_report(key, ErrorCode.RETRIES_EXHAUSTED, reason)


def _error_report(key: str, code: ErrorCode, message: str) -> None:
    logger.warning("manifest refused", extra={"key": key, "code": code.value})
    report = {"manifest_key": key, "error": {"code": code.value, "message": message}, "at": now_iso()}
    AudioStore().put(key + ERROR_REPORT_SUFFIX, json.dumps(report, indent=2).encode(), CONTENT_TYPES["json"])
