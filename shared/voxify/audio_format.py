"""Recognise an audio container from its first bytes, not from a file name.

Light on purpose (no audio libraries): the API refuses obvious non-audio at once, and the
worker's real decoder has the final word.
"""

from __future__ import annotations


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
