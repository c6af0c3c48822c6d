"""A user's library: their samples and generated audio in one list, newest first."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from voxify.errors import ErrorCode, VoxifyError
from voxify.logic import files, jobs, voices
from voxify.logic.files import AudioFile
from voxify.repositories.jobs import JobRepository
from voxify.storage import CONTENT_TYPES

ItemType = Literal["sample", "audio"]
NAME_CHARS = 80


class LibraryEntry(BaseModel):
    type: ItemType
    id: str
    name: str
    status: str
    duration_seconds: float | None = None
    format: str | None = None
    size_bytes: int | None = None
    created_at: str


def entries(user_id: str) -> list[LibraryEntry]:
    samples = [
        LibraryEntry(
            type="sample",
            id=s.sample_id,
            name=s.name,
            status=s.status,
            duration_seconds=s.duration_seconds,
            format=s.format,
            size_bytes=s.size_bytes,
            created_at=s.created_at,
        )
        for s in voices.list_samples(user_id)
    ]
    audio = [
        LibraryEntry(
            type="audio",
            id=j.job_id,
            name=j.text[:NAME_CHARS],
            status=j.status,
            duration_seconds=j.duration_seconds,
            format=j.output_format,
            created_at=j.created_at,
        )
        for j in JobRepository().list_for(user_id)
        if j.output_key
    ]
    return sorted(samples + audio, key=lambda e: e.created_at, reverse=True)


def search(user_id: str, item_type: ItemType | None, text: str | None) -> tuple[list[LibraryEntry], dict[str, int]]:
    """The entries of one type (or all) whose name holds `text`, and the counts per type."""
    everything = entries(user_id)
    counts = {kind: sum(e.type == kind for e in everything) for kind in ("sample", "audio")}
    needle = text.lower() if text else None
    selected = [
        e
        for e in everything
        if (item_type is None or e.type == item_type) and (needle is None or needle in e.name.lower())
    ]
    return selected, counts


def audio_file(user_id: str, item_type: ItemType, item_id: str) -> AudioFile:
    """The audio of a library entry: a sample as uploaded, or a job's combined output."""
    if item_type == "sample":
        sample = voices.get_sample(user_id, item_id)
        fmt = sample.format or "wav"
        return AudioFile(sample.original_key, CONTENT_TYPES.get(fmt, "application/octet-stream"), f"{item_id}.{fmt}")
    job = jobs.get_job(user_id, item_id)
    if not job.output_key:
        raise VoxifyError(ErrorCode.OUTPUT_NOT_READY, "this job has no audio")
    return files.job_output(job)


def delete(user_id: str, item_type: ItemType, item_id: str) -> None:
    if item_type == "sample":
        voices.delete_sample(user_id, item_id)
    else:
        jobs.delete_output(user_id, item_id)
