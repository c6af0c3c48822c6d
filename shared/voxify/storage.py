"""Audio objects in S3. Keys are built here from ids only, never from user-supplied names."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from voxify.aws import client
from voxify.settings import get_settings

CONTENT_TYPES = {
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "flac": "audio/flac",
    "ogg": "audio/ogg",
    "opus": "audio/ogg",  # RFC 7845: Ogg Opus files are audio/ogg
    "m4a": "audio/mp4",
    "webm": "audio/webm",
    "json": "application/json",
}


DELETE_BATCH = 1000  # keys per DeleteObjects call, at most


def sample_prefix(user_id: str, sample_id: str) -> str:
    return f"samples/{user_id}/{sample_id}/"


def clone_reference_key(user_id: str, clone_id: str, fmt: str) -> str:
    """A clone's own copy of its reference audio, once the sample it came from is deleted:
    under samples/, where the worker reads voices from."""
    return f"{sample_prefix(user_id, clone_id)}reference.{fmt}"


def batch_prefix(user_id: str, batch_id: str) -> str:
    return f"outputs/{user_id}/batches/{batch_id}/"


def dropbox_prefix(user_id: str) -> str:
    return f"dropbox/{user_id}/"


def search_clip_key(user_id: str, search_id: str, fmt: str) -> str:
    """A clip uploaded to search by; the worker deletes it once embedded."""
    return f"searches/{user_id}/{search_id}/clip.{fmt}"


def user_prefixes(user_id: str) -> list[str]:
    """Every prefix that holds a user's objects: what erasing the account empties."""
    return [
        f"{area}/{user_id}/"
        for area in (
            "samples",
            "outputs",
            "dropbox",
            "uploads",
            "searches",
            "watermarks",
            "verifications",
        )
    ]


def detection_clip_key(user_id: str, detection_id: str, fmt: str) -> str:
    """A file uploaded for a watermark check; the worker deletes it once checked."""
    return f"watermarks/{user_id}/{detection_id}/clip.{fmt}"


def verification_prefix(user_id: str, clone_id: str) -> str:
    return f"verifications/{user_id}/{clone_id}/"


def verification_recording_key(user_id: str, clone_id: str, fmt: str) -> str:
    """A recording of a verification challenge; the worker deletes it once checked."""
    return f"{verification_prefix(user_id, clone_id)}recording.{fmt}"


def output_prefix(user_id: str, job_id: str) -> str:
    return f"outputs/{user_id}/{job_id}/"


def attempt_prefix(user_id: str, job_id: str, attempt: int) -> str:
    """Where one attempt at a job writes: a worker whose claim was taken over can only ever
    delete its own attempt's files, never the new owner's."""
    return f"{output_prefix(user_id, job_id)}attempt-{attempt}/"


def output_key(user_id: str, job_id: str, fmt: str, attempt: int = 1) -> str:
    return f"{attempt_prefix(user_id, job_id, attempt)}audio.{fmt}"


def timestamps_key(user_id: str, job_id: str, attempt: int = 1) -> str:
    """Word and syllable timestamps too large to keep in the job's item."""
    return f"{attempt_prefix(user_id, job_id, attempt)}timestamps.json"


def block_key(user_id: str, job_id: str, index: int, fmt: str, attempt: int = 1) -> str:
    return f"{attempt_prefix(user_id, job_id, attempt)}blocks/{index:03d}.{fmt}"


def stream_chunk_key(user_id: str, job_id: str, attempt: int, index: int) -> str:
    """One piece of a streaming job's audio; the pieces joined in order are one stream."""
    return f"{attempt_prefix(user_id, job_id, attempt)}stream/{index:05d}.part"


# The tag of a stream's pieces: the bucket's lifecycle expires them a day after they are
# written (template.yaml, expire-stream-chunks), once every listener has long had them; the
# job's whole file stays. A prefix rule cannot match them: they live beside the file.
STREAM_CHUNK_TAGS = {"voxify-object": "stream-chunk"}


class IncompleteDeletion(RuntimeError):
    """Some objects under a prefix were not deleted: the caller must not report the deletion
    done (what was deleted stays deleted; a retry deletes the rest)."""

    def __init__(self, prefix: str, errors: list[Any]) -> None:
        codes = sorted({str(error.get("Code")) for error in errors})
        super().__init__(f"{len(errors)} object versions under {prefix} were not deleted ({', '.join(codes)})")
        self.errors = errors


class AudioStore:
    def __init__(self, bucket: str | None = None) -> None:
        self.bucket = bucket or get_settings().audio_bucket
        self._s3 = client("s3")

    def put(
        self,
        key: str,
        body: bytes,
        content_type: str,
        metadata: dict[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        extra = {"Tagging": urlencode(tags)} if tags else {}
        self._s3.put_object(
            Bucket=self.bucket, Key=key, Body=body, ContentType=content_type, Metadata=metadata or {}, **extra
        )

    def get(self, key: str) -> bytes:
        body: bytes = self._s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        return body

    def copy(self, source: str, destination: str) -> None:
        self._s3.copy_object(Bucket=self.bucket, Key=destination, CopySource={"Bucket": self.bucket, "Key": source})

    def size(self, key: str) -> int | None:
        """The object's size in bytes, or None when there is no such object."""
        try:
            return int(self._s3.head_object(Bucket=self.bucket, Key=key)["ContentLength"])
        except self._s3.exceptions.ClientError as error:
            if error.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
                return None
            raise

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object (all versions) under a prefix; returns how many keys went.

        Everything is listed before anything is deleted (deleting while paginating moves the
        listing's markers under it), then deleted 1,000 keys a call, S3's limit."""
        paginator = self._s3.get_paginator("list_object_versions")
        entries = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix)
            for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        refused = []
        for start in range(0, len(entries), DELETE_BATCH):
            answer = self._s3.delete_objects(
                Bucket=self.bucket, Delete={"Objects": entries[start : start + DELETE_BATCH], "Quiet": True}
            )
            refused += answer.get("Errors", [])
        if refused:  # S3 answers 200 and names, per key, what it did not delete
            raise IncompleteDeletion(prefix, refused)
        return len({entry["Key"] for entry in entries})

    def presigned_get(self, key: str, expires_in: int = 300, filename: str | None = None) -> str:
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if filename:
            params["ResponseContentDisposition"] = f'attachment; filename="{filename}"'
        return str(self._s3.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in))

    def presigned_post(self, key: str, size_bytes: int, expires_in: int = 900) -> dict[str, Any]:
        """A browser-friendly upload form pinned to one key and exactly `size_bytes`."""
        form: dict[str, Any] = self._s3.generate_presigned_post(
            Bucket=self.bucket,
            Key=key,
            ExpiresIn=expires_in,
            Conditions=[["content-length-range", size_bytes, size_bytes]],
        )
        return form
