"""Drop-folder manifests: `.txt`, `.jsonl` and `.csv` files, one utterance per line.

Parsing is pure: bytes in, numbered lines out, each either a job request or the reason it
cannot be one. A bad line never stops the others; a manifest that cannot be read at all
raises ManifestError and becomes an error report instead of a batch.

- `.txt`: every non-blank line is a text, spoken with the user's active voice.
- `.jsonl`: one JSON object per non-blank line.
- `.csv`: a header row naming the columns, then one row per utterance.
Fields (jsonl/csv): text (required), voice_id, format, sample_rate, speed, language,
output_name. Line numbers count from 1 in the file as written (csv: the header is line 1).
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from voxify.domain.batches import MAX_MANIFEST_BYTES
from voxify.domain.jobs import JobCreate
from voxify.errors import CodedError, ErrorCode

MAX_LINES = 1000
FORMATS = ("txt", "jsonl", "csv")
FIELDS = {"text", "voice_id", "format", "sample_rate", "speed", "language", "output_name"}
OUTPUT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


class ManifestError(CodedError):
    """The manifest as a whole cannot become a batch."""


@dataclass(frozen=True)
class ManifestLine:
    line: int
    request: JobCreate | None = None
    output_name: str | None = None
    error_code: ErrorCode | None = None
    error_message: str | None = None


def output_name(line: int, name: str | None) -> str:
    """The file a line's audio is written to in the batch folder (without its extension)."""
    return name or f"{line:04d}"


def manifest_format(key: str) -> str:
    suffix = key.rsplit(".", 1)[-1].lower() if "." in key else ""
    if suffix not in FORMATS:
        raise ManifestError(ErrorCode.MANIFEST_UNREADABLE, "manifests are .txt, .jsonl or .csv files")
    return suffix


def parse_manifest(key: str, data: bytes) -> list[ManifestLine]:
    fmt = manifest_format(key)
    if len(data) > MAX_MANIFEST_BYTES:
        raise ManifestError(ErrorCode.MANIFEST_TOO_LARGE, f"manifests are limited to {MAX_MANIFEST_BYTES} bytes")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ManifestError(ErrorCode.MANIFEST_UNREADABLE, f"not UTF-8 text: {error}") from error
    rows = {"txt": _txt_rows, "jsonl": _jsonl_rows, "csv": _csv_rows}[fmt](text)
    if not rows:
        raise ManifestError(ErrorCode.MANIFEST_EMPTY, "the manifest names no utterance")
    if len(rows) > MAX_LINES:
        raise ManifestError(ErrorCode.MANIFEST_TOO_LARGE, f"at most {MAX_LINES} utterances per manifest")
    lines = [_line(number, fields) for number, fields in rows]
    return _without_duplicate_names(lines)


def _txt_rows(text: str) -> list[tuple[int, dict[str, Any] | str]]:
    return [(number, {"text": line.strip()}) for number, line in enumerate(text.splitlines(), 1) if line.strip()]


def _jsonl_rows(text: str) -> list[tuple[int, dict[str, Any] | str]]:
    rows: list[tuple[int, dict[str, Any] | str]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as error:
            rows.append((number, f"not valid JSON: {error.msg}"))
            continue
        except RecursionError:  # nesting deeper than the parser's stack: no manifest line needs it
            rows.append((number, "JSON nested too deeply"))
            continue
        rows.append((number, value if isinstance(value, dict) else "each line must be a JSON object"))
    return rows


def _csv_rows(text: str) -> list[tuple[int, dict[str, Any] | str]]:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "text" not in [name.strip() for name in reader.fieldnames]:
        raise ManifestError(
            ErrorCode.MANIFEST_UNREADABLE, "a csv manifest starts with a header row that has a text column"
        )
    rows: list[tuple[int, dict[str, Any] | str]] = []
    try:
        for row in reader:
            if None in row:
                rows.append((reader.line_num, "more values than header columns"))
                continue
            cleaned = {k.strip(): v for k, v in row.items() if v not in (None, "")}
            if cleaned:
                rows.append((reader.line_num, cleaned))
    except csv.Error as error:
        raise ManifestError(ErrorCode.MANIFEST_UNREADABLE, f"malformed csv: {error}") from error
    return rows


def _line(number: int, fields: dict[str, Any] | str) -> ManifestLine:
    if isinstance(fields, str):
        return ManifestLine(number, error_code=ErrorCode.VALIDATION_ERROR, error_message=fields)
    unknown = set(fields) - FIELDS
    if unknown:
        return ManifestLine(
            number,
            error_code=ErrorCode.VALIDATION_ERROR,
            error_message=f"unknown field(s): {', '.join(sorted(unknown))}",
        )
    text = str(fields.get("text") or "").strip()
    if not text:
        return ManifestLine(number, error_code=ErrorCode.EMPTY_TEXT, error_message="the line has no text")
    name = fields.get("output_name")
    if name is not None and not OUTPUT_NAME.match(str(name)):
        return ManifestLine(
            number,
            error_code=ErrorCode.VALIDATION_ERROR,
            error_message="output_name: letters, digits, '.', '_' and '-' only, at most 100",
        )
    options = {
        "text_content": text,
        "voice_model_id": fields.get("voice_id"),
        "output_format": fields.get("format"),
        "sample_rate": fields.get("sample_rate"),
        "speed": fields.get("speed"),
        "text_language": fields.get("language"),
    }
    try:
        request = JobCreate.model_validate({k: v for k, v in options.items() if v is not None})
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'line'}: {e['msg']}" for e in error.errors())
        return ManifestLine(number, error_code=ErrorCode.VALIDATION_ERROR, error_message=problems)
    return ManifestLine(number, request=request, output_name=str(name) if name is not None else None)


def _without_duplicate_names(lines: list[ManifestLine]) -> list[ManifestLine]:
    """Two lines may not write the same output file; the later one is reported."""
    seen: set[str] = set()
    checked = []
    for line in lines:
        name = output_name(line.line, line.output_name)
        if line.request is not None and name in seen:
            line = ManifestLine(
                line.line,
                error_code=ErrorCode.DUPLICATE_OUTPUT_NAME,
                error_message=f"output_name {name!r} is used by an earlier line",
            )
        seen.add(name)
        checked.append(line)
    return checked
