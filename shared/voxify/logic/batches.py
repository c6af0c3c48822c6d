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

import hashlib
import json
from typing import Any

from voxify.clock import now_iso
from voxify.domain.jobs import JobStatus
from voxify.errors import VoxifyError
from voxify.events import EventPublisher
from voxify.logic.jobs import create_job
from voxify.logic.manifests import ManifestError, ManifestLine, parse_manifest
from voxify.logic.usage import with_daily_quota
from voxify.observability import logger
from voxify.repositories.batches import OUTCOMES, BatchRepository
from voxify.repositories.jobs import JobRepository
from voxify.repositories.users import UserRepository
from voxify.storage import CONTENT_TYPES, AudioStore, batch_prefix

ERROR_REPORT_SUFFIX = ".error.json"
FINISHED = ("completed", "completed_with_errors", "failed")


def batch_id_for(key: str, etag: str) -> str:
    return "bat_" + hashlib.sha256(f"{key}\n{etag.strip(chr(34))}".encode()).hexdigest()[:32]


def line_job_id(batch_id: str, line: int) -> str:
    return "job_" + hashlib.sha256(f"{batch_id}:{line}".encode()).hexdigest()[:32]


def output_name(line: int, name: str | None) -> str:
    return name or f"{line:04d}"


def ingest_manifest(key: str, etag: str, data: bytes) -> dict[str, Any] | None:
    """The batch for this manifest (made now, or earlier for the same ETag); None when the
    manifest cannot be a batch, in which case an error report is written beside it."""
    if key.endswith(ERROR_REPORT_SUFFIX):
        return None  # our own report, announced by the same bucket notification
    parts = key.split("/")
    user = UserRepository().get(parts[1]) if len(parts) >= 3 and parts[0] == "dropbox" else None
    if user is None or user.get("disabled"):
        _error_report(key, "UNKNOWN_USER", "the manifest's folder names no active user: dropbox/{user_id}/...")
        return None
    try:
        lines = parse_manifest(key, data)
    except ManifestError as error:
        _error_report(key, error.code, str(error))
        return None
    batches = BatchRepository()
    batch_id = batch_id_for(key, etag)
    now = now_iso()
    created = batches.create_once({
        "batch_id": batch_id, "user_id": user["user_id"], "manifest_key": key, "manifest_etag": etag,
        "status": "creating", "total_lines": len(lines), "accepted": 0, "rejected": 0,
        "output_prefix": batch_prefix(user["user_id"], batch_id), "created_at": now, "updated_at": now})
    batch = batches.get(batch_id)
    assert batch is not None
    if batch["status"] != "creating":
        logger.info("manifest delivered again; its batch exists", extra={"batch_id": batch_id})
        return batch
    if created:
        EventPublisher().batch_changed(_public(batch))
    results = [_create_line_job(batch, line) for line in lines]
    accepted = sum(1 for r in results if r["job_id"])
    batch = batches.update(batch_id, {"status": "processing", "lines": results, "accepted": accepted,
                                      "rejected": len(results) - accepted}) or batch
    logger.info("batch created", extra={"batch_id": batch_id, "accepted": accepted, "lines": len(results)})
    return _finish_if_done(batch)


def _create_line_job(batch: dict[str, Any], line: ManifestLine) -> dict[str, Any]:
    """One line's job (created now, or found from an earlier delivery), or its error."""
    name = output_name(line.line, line.output_name)
    result = {"line": line.line, "output_name": name, "job_id": None,
              "error_code": line.error_code, "error_message": line.error_message}
    if line.request is None:
        return result
    job_id = line_job_id(batch["batch_id"], line.line)
    if JobRepository().get(job_id) is not None:
        return {**result, "job_id": job_id}
    try:
        with_daily_quota(batch["user_id"], "job", lambda: create_job(
            batch["user_id"], line.request, source="dropfolder", batch_id=batch["batch_id"], job_id=job_id,
            labels={"batch_output_name": name}))
    except VoxifyError as error:
        return {**result, "error_code": error.code.value, "error_message": error.message}
    return {**result, "job_id": job_id}


def record_job_outcome(job_event: dict[str, Any]) -> None:
    """A drop-folder job ended: copy its audio into the batch folder, count it, and finish
    the batch if it was the last."""
    batch_id, job_id, status = job_event.get("batch_id"), job_event["job_id"], job_event["status"]
    if not batch_id or status not in OUTCOMES:
        return
    job = JobRepository().get(job_id)
    batches = BatchRepository()
    batch = batches.get(batch_id)
    if job is None or batch is None:
        return
    if status == JobStatus.COMPLETED and job.get("output_key"):
        AudioStore().copy(job["output_key"], _line_output_key(batch, job))
    if batches.count_outcome(batch_id, job_id, status):
        _finish_if_done(batches.get(batch_id) or batch)


def _line_output_key(batch: dict[str, Any], job: dict[str, Any]) -> str:
    return f"{batch['output_prefix']}{job['batch_output_name']}.{job['output_format']}"


def _finish_if_done(batch: dict[str, Any]) -> dict[str, Any]:
    """Write the manifest and report once every accepted line's job has ended (only the
    writer whose conditional status change succeeds does)."""
    done = sum(int(batch.get(outcome, 0)) for outcome in OUTCOMES)
    if batch["status"] != "processing" or done < int(batch["accepted"]):
        return batch
    jobs = JobRepository()
    entries = [_manifest_entry(batch, line, jobs.get(line["job_id"]) if line["job_id"] else None)
               for line in batch["lines"]]
    errors = [{"line": e["line"], "code": e["error_code"], "message": e["error_message"]}
              for e in entries if e["error_code"]]
    status = "failed" if not batch["accepted"] else "completed_with_errors" if errors else "completed"
    report_key = f"{batch['output_prefix']}report.json"
    finished = BatchRepository().update(batch["batch_id"], {"status": status, "finished_at": now_iso(),
                                                            "report_key": report_key},
                                        expected_status=["processing"])
    if finished is None:
        return BatchRepository().get(batch["batch_id"]) or batch
    store = AudioStore()
    store.put(f"{batch['output_prefix']}manifest.jsonl",
              "".join(json.dumps(e) + "\n" for e in entries).encode(), "application/x-ndjson")
    report = {"batch_id": batch["batch_id"], "manifest_key": batch["manifest_key"], "status": status,
              "counts": counts(finished), "errors": errors, "created_at": batch["created_at"],
              "finished_at": finished["finished_at"]}
    store.put(report_key, json.dumps(report, indent=2).encode(), CONTENT_TYPES["json"])
    EventPublisher().batch_changed(_public(finished))
    logger.info("batch finished", extra={"batch_id": batch["batch_id"], "status": status})
    return finished


def _manifest_entry(batch: dict[str, Any], line: dict[str, Any], job: dict[str, Any] | None) -> dict[str, Any]:
    entry = {"line": line["line"], "job_id": line["job_id"], "status": "rejected", "output_key": None,
             "duration_seconds": None, "error_code": line["error_code"], "error_message": line["error_message"]}
    if job is None:
        return entry
    entry |= {"status": job["status"], "error_code": job.get("error_code"), "error_message": job.get("error_message")}
    if job["status"] == JobStatus.COMPLETED:
        entry |= {"output_key": _line_output_key(batch, job), "duration_seconds": job.get("duration_seconds")}
    return entry


def counts(batch: dict[str, Any]) -> dict[str, int]:
    done = {outcome: int(batch.get(outcome, 0)) for outcome in OUTCOMES}
    accepted = int(batch.get("accepted", 0))
    return {"lines": int(batch["total_lines"]), "accepted": accepted, "rejected": int(batch.get("rejected", 0)),
            **done, "pending": max(0, accepted - sum(done.values())) if batch["status"] != "creating" else 0}


def _public(batch: dict[str, Any]) -> dict[str, Any]:
    return {**batch, "counts": counts(batch)}


def public_batch(batch: dict[str, Any], include_lines: bool = False) -> dict[str, Any]:
    shown = {k: v for k, v in _public(batch).items()
             if k not in ("lines", "accepted", "rejected", *OUTCOMES)}
    if include_lines:
        shown["lines"] = batch.get("lines", [])
    return shown


def _error_report(key: str, code: str, message: str) -> None:
    logger.warning("manifest refused", extra={"key": key, "code": code})
    report = {"manifest_key": key, "error": {"code": code, "message": message}, "at": now_iso()}
    AudioStore().put(key + ERROR_REPORT_SUFFIX, json.dumps(report, indent=2).encode(), CONTENT_TYPES["json"])
