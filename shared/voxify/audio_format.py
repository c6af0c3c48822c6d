"""Recognise an audio container from its first bytes, and read what its header promises.

Light on purpose (no audio libraries, pure Python): the API refuses at upload what the header
already shows to be unusable, and the worker applies the same rules before it decodes (files
that arrive by presigned upload never pass the API). The worker's decoder has the final word
on everything else.

`inspect_audio` refuses, with a stable code:

* UNSUPPORTED_AUDIO: no container we know, or more audio than allowed (the length a WAV's data
  chunk, a FLAC's STREAMINFO, an MP3's Xing/Info/VBRI frame count or an Ogg stream's last
  granule position promises). Over-long audio is valid audio we do not take, as an oversized
  file is, so it is not called corrupt.
* CORRUPT_AUDIO: a known container that cannot play: a header cut short, no format chunk, no
  audio frames where they must start, an MP3 or ADTS frame header followed by bytes that are
  not frames, or less than `MIN_PLAYABLE_SECONDS` of audio (a one-sample WAV).

Streams that do not say their length (a streamed WAV's 0 or 0xFFFFFFFF sizes, a FLAC with
total samples 0, an MP3 without a VBR header, m4a and webm) pass; the worker's decoder counts.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

from voxify.errors import CodedError, ErrorCode

# Shorter than one 10 ms analysis frame: nothing a player or the pipeline can use.
MIN_PLAYABLE_SECONDS = 0.01
NOT_AUDIO = "not a wav, mp3, flac, ogg, m4a or webm file (judged by its content)"
# MP3/ADTS frames checked after the first one, and how far past a tag a first frame is sought
_FRAMES_CHECKED = 3
_SYNC_WINDOW = 64 * 1024
_OGG_TAIL = 256 * 1024


def sniff_audio_format(head: bytes) -> str | None:
    """'wav', 'mp3', 'flac', 'ogg', 'm4a', 'webm', or None when it is none of them."""
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"OggS":
        return "ogg"
    if head[4:8] == b"ftyp":
        return "m4a"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "webm"
    if head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "mp3"
    return None


class AudioRefused(CodedError):
    """What the header shows: `code` is UNSUPPORTED_AUDIO or CORRUPT_AUDIO, `message` is plain."""


@dataclass(frozen=True)
class AudioHeader:
    """What the header says; None where it does not say."""

    format: str
    sample_rate: int | None = None
    channels: int | None = None
    frames: int | None = None

    @property
    def seconds(self) -> float | None:
        if self.frames is None or not self.sample_rate:
            return None
        return self.frames / self.sample_rate


def inspect_audio(data: bytes, max_seconds: float) -> AudioHeader:
    """The header of an uploaded file, once it shows nothing unusable; raises AudioRefused."""
    fmt = sniff_audio_format(data[:64])
    if fmt is None:
        raise AudioRefused(ErrorCode.UNSUPPORTED_AUDIO, NOT_AUDIO)
    parse = _PARSERS.get(fmt)
    header = parse(data) if parse else AudioHeader(fmt)
    check_length(header.seconds, max_seconds)
    return header


def check_length(seconds: float | None, max_seconds: float, source: str = "the header says") -> None:
    """Refuse a known length that is unplayably short or longer than allowed."""
    if seconds is None:
        return
    if seconds > max_seconds:
        raise AudioRefused(ErrorCode.UNSUPPORTED_AUDIO, too_long(max_seconds, f"{source} {seconds:.0f} s"))
    if seconds < MIN_PLAYABLE_SECONDS:
        raise AudioRefused(ErrorCode.CORRUPT_AUDIO, f"holds no playable audio ({source} {seconds * 1000:.1f} ms)")


def too_long(max_seconds: float, found: str) -> str:
    return f"too long: {found}, at most {max_seconds:.0f} s of audio are allowed"


def _corrupt(message: str) -> AudioRefused:
    return AudioRefused(ErrorCode.CORRUPT_AUDIO, message)


# --------------------------------------------------------------------------- WAV

# PCM, IEEE float, A-law, mu-law, WAVE_FORMAT_EXTENSIBLE: one block_align per frame
_FRAME_PER_BLOCK = {1, 3, 6, 7, 0xFFFE}
_UNKNOWN_SIZES = {0, 0xFFFFFFFF}  # what streaming writers leave in a size they cannot know


def _wav(data: bytes) -> AudioHeader:
    offset, fmt = 12, None
    while True:
        if offset + 8 > len(data):
            raise _corrupt("the WAV header is cut short: no data chunk")
        chunk, size = data[offset : offset + 4], struct.unpack_from("<I", data, offset + 4)[0]
        body = offset + 8
        if chunk == b"data":
            break
        if body + size > len(data):
            raise _corrupt("the WAV header is cut short inside a chunk")
        if chunk == b"fmt ":
            if size < 16:
                raise _corrupt("the WAV format chunk is too small")
            fmt = struct.unpack_from("<HHIIH", data, body)
        offset = body + size + (size & 1)
    if fmt is None:
        raise _corrupt("the WAV file has no format chunk before its audio")
    tag, channels, rate, _, block_align = fmt
    if not channels or not rate or not block_align:
        raise _corrupt("the WAV format chunk names no channels, rate or frame size")
    present = len(data) - body
    declared = present if size in _UNKNOWN_SIZES else size
    if min(declared, present) < block_align:
        raise _corrupt("the WAV file holds no audio: its data chunk is shorter than one frame")
    frames = declared // block_align if tag in _FRAME_PER_BLOCK else None
    return AudioHeader("wav", rate, channels, frames)


# --------------------------------------------------------------------------- FLAC


def _flac(data: bytes, start: int = 0) -> AudioHeader:
    info = data[start + 4 : start + 42]
    if len(info) < 38 or info[0] & 0x7F != 0 or info[1:4] != b"\x00\x00\x22":
        raise _corrupt("the FLAC file has no complete STREAMINFO block")
    max_block = struct.unpack_from(">H", info, 6)[0]
    packed = int.from_bytes(info[14:22], "big")
    rate, channels, total = packed >> 44, ((packed >> 41) & 0x7) + 1, packed & ((1 << 36) - 1)
    if not rate or max_block < 16:
        raise _corrupt("the FLAC STREAMINFO names no sample rate or block size")
    offset, last = start + 4, False
    while not last:
        if offset + 4 > len(data):
            raise _corrupt("the FLAC metadata is cut short")
        last, size = bool(data[offset] & 0x80), int.from_bytes(data[offset + 1 : offset + 4], "big")
        offset += 4 + size
        if offset > len(data):
            raise _corrupt("the FLAC metadata is cut short")
    if offset + 2 > len(data):
        raise _corrupt("the FLAC file holds no audio frames")
    if data[offset] != 0xFF or data[offset + 1] not in (0xF8, 0xF9):
        raise _corrupt("no FLAC audio frame follows the metadata")
    return AudioHeader("flac", rate, channels, total or None)


# --------------------------------------------------------------------------- MP3 and ADTS

_MPEG_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}
_KBPS = {
    (True, 3): (0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 1): (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 3): (0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    (False, 1): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_ADTS_RATES = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350)
_END_TAGS = (b"TAG", b"APETAGEX", b"LYRICS")


@dataclass(frozen=True)
class _Frame:
    kind: tuple[int, int, int]  # what must stay the same from frame to frame
    length: int
    rate: int
    channels: int
    samples: int


def _mpeg_frame(data: bytes, at: int) -> _Frame | None:
    """The MPEG audio (layer I-III) or ADTS frame starting at `at`, if one does."""
    if at + 4 > len(data) or data[at] != 0xFF or data[at + 1] & 0xE0 != 0xE0:
        return None
    b1, b2, b3 = data[at + 1], data[at + 2], data[at + 3]
    if b1 & 0xF6 == 0xF0:  # ADTS (AAC): MPEG version bit, layer 00
        return _adts_frame(data, at)
    version, layer, bitrate, rate_index = (b1 >> 3) & 3, (b1 >> 1) & 3, b2 >> 4, (b2 >> 2) & 3
    if version == 1 or layer == 0 or bitrate in (0, 15) or rate_index == 3:
        return None  # reserved values; free-format bitrate cannot be chained
    rate, padding, mpeg1 = _MPEG_RATES[version][rate_index], (b2 >> 1) & 1, version == 3
    kbps = _KBPS[(mpeg1, layer)][bitrate] * 1000
    if layer == 3:  # layer I
        length, samples = (12 * kbps // rate + padding) * 4, 384
    elif layer == 1 and not mpeg1:  # layer III, MPEG 2 and 2.5
        length, samples = 72 * kbps // rate + padding, 576
    else:
        length, samples = 144 * kbps // rate + padding, 1152
    return _Frame((version, layer, rate_index), length, rate, 1 if b3 >> 6 == 3 else 2, samples)


def _adts_frame(data: bytes, at: int) -> _Frame | None:
    if at + 7 > len(data):
        return None
    b2, b3, b4, b5, b6 = data[at + 2 : at + 7]
    rate_index, channels = (b2 >> 2) & 0xF, ((b2 & 1) << 2) | (b3 >> 6)
    length = ((b3 & 3) << 11) | (b4 << 3) | (b5 >> 5)
    if rate_index >= len(_ADTS_RATES) or length < 7:
        return None
    return _Frame(
        (-1, rate_index, data[at + 1] & 0x08), length, _ADTS_RATES[rate_index], channels, 1024 * ((b6 & 3) + 1)
    )


def _chained(data: bytes, at: int) -> _Frame | None:
    """The frame at `at` if it is complete and the frames after it (up to a few) are frames
    of the same stream, up to the end of the file or a closing tag."""
    first = _mpeg_frame(data, at)
    if first is None or at + first.length > len(data):
        return None
    offset = at + first.length
    for _ in range(_FRAMES_CHECKED):
        if len(data) - offset < 4 or data[offset:].startswith(_END_TAGS):
            break
        frame = _mpeg_frame(data, offset)
        if frame is None or frame.kind != first.kind:
            return None
        offset += frame.length
    return first


def _skip_id3(data: bytes) -> int:
    offset = 0
    while data[offset : offset + 3] == b"ID3":
        if offset + 10 > len(data):
            raise _corrupt("the ID3 tag is cut short")
        size = 0
        for byte in data[offset + 6 : offset + 10]:
            size = (size << 7) | (byte & 0x7F)
        offset += 10 + size + (10 if data[offset + 5] & 0x10 else 0)
    if offset >= len(data):
        raise _corrupt("the file holds an ID3 tag and no audio")
    return offset


def _mp3(data: bytes) -> AudioHeader:
    start = _skip_id3(data)
    if data[start : start + 4] == b"fLaC":  # FLAC with an ID3 tag in front
        return _flac(data, start)
    while start < len(data) and data[start] == 0:
        start += 1  # padding after a tag
    if _mpeg_frame(data, start) is None and start + 4 <= len(data) and data[start] != 0xFF:
        # something between the tag and the audio: decoders look a little further
        found = data.find(b"\xff", start, start + _SYNC_WINDOW)
        while found != -1 and _chained(data, found) is None:
            found = data.find(b"\xff", found + 1, start + _SYNC_WINDOW)
        start = found if found != -1 else start
    first = _chained(data, start)
    if first is None:
        if _mpeg_frame(data, start) is None:
            raise _corrupt("no MP3 frame header where the audio should start")
        raise _corrupt("the first MP3 frame is cut short or not followed by more frames")
    return AudioHeader("mp3", first.rate, first.channels, _vbr_frames(data, start, first))


def _vbr_frames(data: bytes, at: int, first: _Frame) -> int | None:
    """The stream's length in samples from a Xing/Info or VBRI header in its first frame."""
    if first.kind[0] == -1:
        return None
    mpeg1, mono = first.kind[0] == 3, first.channels == 1
    side_info = (17 if mono else 32) if mpeg1 else (9 if mono else 17)
    xing = at + 4 + side_info
    if data[xing : xing + 4] in (b"Xing", b"Info") and xing + 12 <= len(data):
        flags = struct.unpack_from(">I", data, xing + 4)[0]
        if flags & 1:
            return int(struct.unpack_from(">I", data, xing + 8)[0]) * first.samples
    vbri = at + 36
    if data[vbri : vbri + 4] == b"VBRI" and vbri + 18 <= len(data):
        return int(struct.unpack_from(">I", data, vbri + 14)[0]) * first.samples
    return None


# --------------------------------------------------------------------------- Ogg


def _ogg(data: bytes) -> AudioHeader:
    if len(data) < 27 or len(data) < 27 + data[26] + sum(data[27 : 27 + data[26]]):
        raise _corrupt("the first Ogg page is cut short")
    serial = data[14:18]
    packet = data[27 + data[26] :]
    if packet[:7] == b"\x01vorbis" and len(packet) >= 16:
        rate, channels, pre_skip = struct.unpack_from("<I", packet, 12)[0], packet[11], 0
    elif packet[:8] == b"OpusHead" and len(packet) >= 12:
        rate, channels, pre_skip = 48_000, packet[9], struct.unpack_from("<H", packet, 10)[0]
    else:
        return AudioHeader("ogg")
    if not rate or not channels:
        raise _corrupt("the Ogg stream header names no sample rate or channels")
    return AudioHeader("ogg", rate, channels, _ogg_length(data, serial, pre_skip))


def _ogg_length(data: bytes, serial: bytes, pre_skip: int) -> int | None:
    """Samples in the stream: the granule position of its last page (as players read it)."""
    tail_start = max(0, len(data) - _OGG_TAIL)
    at = data.rfind(b"OggS", tail_start)
    while at != -1:
        if at + 27 <= len(data) and data[at + 14 : at + 18] == serial:
            granule = int(struct.unpack_from("<q", data, at + 6)[0])
            if granule >= 0:
                return max(0, granule - pre_skip)
        at = data.rfind(b"OggS", tail_start, at)
    return None


_PARSERS: dict[str, Callable[[bytes], AudioHeader]] = {"wav": _wav, "flac": _flac, "mp3": _mp3, "ogg": _ogg}
