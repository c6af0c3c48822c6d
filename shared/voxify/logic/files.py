"""The audio files users fetch: a finished job's output and blocks, samples, batch reports.

Files travel as presigned S3 URLs (a 302), or inline for small ones: a Lambda response is
capped near 6 MB after base64, so larger files are only ever redirected.
"""

from __future__ import annotations

from dataclasses import dataclass

from voxify.domain.jobs import JobRecord, JobStatus
from voxify.errors import ErrorCode, VoxifyError, not_found
from voxify.storage import CONTENT_TYPES, AudioStore

# A Lambda response is at most 6 MB and API Gateway base64-encodes binary bodies (4/3 larger):
# 4 MiB of audio is 5.6 MB on the wire, the most that fits with headers to spare.
INLINE_LIMIT_BYTES = 4 * 1024 * 1024
DOWNLOAD_URL_SECONDS = 300


@dataclass(frozen=True)
class AudioFile:
    key: str
    content_type: str
    filename: str

    def download_url(self, expires_in: int = DOWNLOAD_URL_SECONDS, attachment: bool = True) -> str:
        return AudioStore().presigned_get(
            self.key, expires_in=expires_in, filename=self.filename if attachment else None
        )

    def read(self) -> bytes:
        return AudioStore().get(self.key)

    def read_inline(self) -> bytes:
        """The bytes, when the file exists and is small enough to answer inline."""
        size = AudioStore().size(self.key)
        if size is None:
            raise not_found("audio file")
        if size > INLINE_LIMIT_BYTES:
            raise VoxifyError(ErrorCode.PAYLOAD_TOO_LARGE, "too large to send inline; omit ?inline=1")
        return self.read()

    def small_enough_bytes(self) -> bytes | None:
        """The bytes when the file fits a response, else None (the caller redirects instead)."""
        size = AudioStore().size(self.key)
        if size is None:
            raise not_found("audio file")
        return self.read() if size <= INLINE_LIMIT_BYTES else None

    def size(self) -> int | None:
        return AudioStore().size(self.key)


def finished(job: JobRecord) -> JobRecord:
    """The job, if it completed with audio; OUTPUT_NOT_READY otherwise."""
    if job.status != JobStatus.COMPLETED or not job.output_key:
        raise VoxifyError(
            ErrorCode.OUTPUT_NOT_READY, f"the job is {job.status} and has no audio", {"status": job.status}
        )
    return job


def job_output(job: JobRecord, block: int | None = None) -> AudioFile:
    """A finished job's combined audio, or one block's."""
    finished(job)
    content_type = CONTENT_TYPES[job.output_format]
    if block is None:
        assert job.output_key is not None
        return AudioFile(job.output_key, content_type, f"{job.job_id}.{job.output_format}")
    if not 0 <= block < len(job.block_keys):
        raise not_found("block")
    return AudioFile(job.block_keys[block], content_type, f"{job.job_id}-{block}.{job.output_format}")
