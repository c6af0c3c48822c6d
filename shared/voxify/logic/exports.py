"""A user's data, all of it, as one archive (GET /api/v1/auth/export).

The archive is a zip of JSON files, one per kind of record, each in the form the API shows it
(so secrets stay out: password and key hashes, webhook signing secrets), plus `consent.json`
(each clone's consent attestation: who, when, the statement and its version, the client, each
sample's SHA-256; and its verification, if it passed) and `audio.json` (every audio object the records name:
the user downloads them through the API). Everything is read through the logic that serves
the same records one by one, so the archive holds exactly what the user owns.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterable
from typing import Any, Protocol

from pydantic import BaseModel

from voxify.clock import now_iso
from voxify.domain.voices import CloneRecord
from voxify.logic import auth, batches, jobs, voices, webhooks

ARCHIVE_VERSION = 1


def export_archive(user_id: str) -> bytes:
    """The zip's bytes; `manifest.json` names its files and when it was made."""
    files = _records(user_id)
    files["manifest.json"] = {
        "version": ARCHIVE_VERSION,
        "user_id": user_id,
        "created_at": now_iso(),
        "files": sorted(files),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, json.dumps(content, indent=2, sort_keys=True))
    return buffer.getvalue()


def _records(user_id: str) -> dict[str, Any]:
    samples = voices.list_samples(user_id)
    clones = voices.list_clones(user_id)
    job_records = jobs.list_jobs(user_id)
    sample_keys = [[s.original_key, s.normalized_key, s.reference_key] for s in samples]
    job_keys = [[j.output_key, *j.block_keys] for j in job_records]
    return {
        "profile.json": _shown([auth.profile(user_id)])[0],
        "api_keys.json": _shown(auth.list_api_keys(user_id)),
        "samples.json": _shown(samples),
        "clones.json": _shown(clones),
        "consent.json": [_consent(c) for c in clones],
        "jobs.json": _shown(job_records),
        "batches.json": _shown(batches.list_batches(user_id)),
        "webhooks.json": _shown(webhooks.list_webhooks(user_id)),
        "audio.json": sorted({key for keys in sample_keys + job_keys for key in keys if key}),
    }


def _consent(clone: CloneRecord) -> dict[str, Any]:
    verification = clone.verification.model_dump() if clone.verification else None
    return {
        "clone_id": clone.clone_id,
        "name": clone.name,
        **clone.consent,
        "verified_at": clone.verified_at,
        "verification": verification,
    }


class _Shown(Protocol):
    def public(self) -> BaseModel: ...


def _shown(records: Iterable[_Shown]) -> list[Any]:
    """Each record as the API shows it to its owner."""
    return [record.public().model_dump(mode="json") for record in records]
