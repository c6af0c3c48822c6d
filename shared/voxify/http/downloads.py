"""Audio downloads for clients that do not follow redirects: the bytes when they fit a
response (voxify.logic.files.INLINE_LIMIT_BYTES), else a 302 to a presigned URL."""

from typing import Any

from fastapi.responses import RedirectResponse, Response

from voxify.logic.files import AudioFile

DOWNLOAD: dict[int | str, dict[str, Any]] = {
    200: {"content": {"audio/*": {}}, "description": "the audio as an attachment"},
    302: {"description": "files too large for one response: a presigned URL"},
}


def audio_download(audio: AudioFile, disposition: str = "attachment") -> Response:
    data = audio.small_enough_bytes()
    if data is None:
        return RedirectResponse(audio.download_url(), status_code=302)
    return Response(
        data,
        media_type=audio.content_type,
        headers={"Content-Disposition": f'{disposition}; filename="{audio.filename}"'},
    )
