"""Word and syllable timestamps for a job's audio.

Words come from the engine (eSpeak events, or estimates the engine marks as such), the
estimates measured by forced alignment where the language allows (work/alignment.py).
Syllables are estimated inside each word from its vowel groups and marked estimated.
"""

from __future__ import annotations

import re
from typing import Any

from voxify_worker.engines.base import WordTiming

_VOWEL_GROUPS = re.compile(r"[aeiouyàáâäèéêëìíîïòóôöùúûüæœ]+", re.IGNORECASE)


def syllables(word: str) -> list[str]:
    """Split a written word at vowel-group boundaries; always at least one piece."""
    groups = list(_VOWEL_GROUPS.finditer(word))
    if len(groups) <= 1:
        return [word]
    cuts = [0] + [(groups[i].end() + groups[i + 1].start() + 1) // 2 for i in range(len(groups) - 1)] + [len(word)]
    return [word[a:b] for a, b in zip(cuts, cuts[1:], strict=False) if word[a:b]]


def timestamps(words: list[WordTiming], granularity: str) -> dict[str, Any]:
    result: dict[str, Any] = {}
    if granularity in ("word", "both"):
        result["words"] = [
            {
                "word": w.word,
                "start_time": round(w.start_time, 3),
                "end_time": round(w.end_time, 3),
                "estimated": w.estimated,
            }
            for w in words
        ]
    if granularity in ("syllable", "both"):
        pieces = []
        for w in words:
            parts = syllables(w.word)
            total = sum(len(p) for p in parts)
            start = w.start_time
            for part in parts:
                end = start + (w.end_time - w.start_time) * len(part) / total
                pieces.append(
                    {"syllable": part, "start_time": round(start, 3), "end_time": round(end, 3), "estimated": True}
                )
                start = end
        result["syllables"] = pieces
    return result
