"""Encode audio a piece at a time, so that the pieces, joined in order, play as one stream.

A streaming job's audio leaves the worker sentence by sentence, before the rest is made, so
each piece must continue the ones before it rather than be a file of its own:

* wav: bare 16-bit little-endian PCM. The header, which must come first and cannot know the
  length, is the API's to write (the RIFF streaming convention: sizes 0xFFFFFFFF), or none
  for raw PCM.
* mp3, ogg: one libsndfile encoder (LAME; Vorbis) kept open for the whole job; each piece is
  what the encoder has written since the last. At the end LAME goes back to fill in its
  first frame (the Xing/LAME tag, a frame of zeros until then); a stream cannot take that
  back, so the placeholder frame is left out of the stream: what remains are plain MP3 frames.

FLAC is not streamed: its header carries the total length and a checksum of all the audio.
"""

from __future__ import annotations

import io

import numpy as np
import soundfile as sf

from voxify.domain.jobs import STREAMED_FORMATS
from voxify.errors import ErrorCode

from .errors import AudioError

_ENCODERS = {"mp3": ("MP3", "MPEG_LAYER_III"), "ogg": ("OGG", "VORBIS")}
# MPEG audio layer III: kbit/s by bitrate index (MPEG-1; MPEG-2 and 2.5) and Hz by rate index
_MP3_KBPS = {
    1: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_MP3_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def pcm16(samples: np.ndarray) -> bytes:
    """Float samples as 16-bit little-endian PCM."""
    data: bytes = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes()
    return data


def mp3_frame_length(header: bytes) -> int:
    """Bytes in the layer III frame that starts with this 4-byte header."""
    version, bitrate, rate, padding = (header[1] >> 3) & 3, header[2] >> 4, (header[2] >> 2) & 3, (header[2] >> 1) & 1
    kbps = _MP3_KBPS[1 if version == 3 else 2][bitrate]
    return (144 if version == 3 else 72) * kbps * 1000 // _MP3_RATES[version][rate] + padding


class StreamEncoder:
    """Samples in at `sample_rate`, bytes out; `end` once, after the last samples."""

    def __init__(self, fmt: str, sample_rate: int) -> None:
        if fmt not in STREAMED_FORMATS:
            raise AudioError(ErrorCode.UNSUPPORTED_FORMAT, f"{fmt} cannot be streamed")
        self._fmt = fmt
        self._buffer = io.BytesIO()
        self._file: sf.SoundFile | None = None
        if fmt in _ENCODERS:
            container, subtype = _ENCODERS[fmt]
            self._file = sf.SoundFile(
                self._buffer, "w", samplerate=sample_rate, channels=1, format=container, subtype=subtype
            )
        self._taken = 0  # bytes of the buffer handed out (or skipped) so far

    def add(self, samples: np.ndarray) -> bytes:
        """The stream's bytes for these samples (possibly none yet: encoders hold a frame)."""
        if self._file is None:
            return pcm16(samples)
        if samples.size:
            self._file.write(np.clip(samples, -1.0, 1.0))
        return self._new_bytes()

    def end(self) -> bytes:
        """What the encoder still held."""
        if self._file is None:
            return b""
        self._file.close()
        return self._new_bytes()

    def _new_bytes(self) -> bytes:
        with self._buffer.getbuffer() as written:
            if self._fmt == "mp3" and self._taken == 0 and len(written) >= 4:
                self._taken = mp3_frame_length(bytes(written[:4]))  # the tag's placeholder
            fresh = bytes(written[self._taken :])
        self._taken += len(fresh)
        return fresh
