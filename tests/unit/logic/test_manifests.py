"""Drop-folder manifest parsing: every format, bad lines reported per line, bad files refused."""

import json

import pytest

from voxify.logic.manifests import MAX_LINES, ManifestError, parse_manifest


def jsonl(*rows) -> bytes:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows).encode()


def test_txt_one_utterance_per_non_blank_line():
    lines = parse_manifest("dropbox/u/a.txt", b"Hello there.\n\n  Second line  \n")
    assert [(line.line, line.request.text_content) for line in lines] == [(1, "Hello there."), (3, "Second line")]
    assert all(line.request.voice_model_id is None and line.output_name is None for line in lines)


def test_jsonl_options_map_onto_the_job_request():
    [line] = parse_manifest(
        "dropbox/u/b.jsonl",
        jsonl(
            {
                "text": "Hi",
                "voice_id": "vox_1",
                "format": "mp3",
                "sample_rate": 22050,
                "speed": 1.2,
                "language": "en",
                "output_name": "greeting",
            }
        ),
    )
    request = line.request
    assert (
        request.text_content,
        request.voice_model_id,
        request.output_format,
        request.sample_rate,
        request.speed,
        request.text_language,
        line.output_name,
    ) == ("Hi", "vox_1", "mp3", 22050, 1.2, "en", "greeting")


def test_csv_with_a_header_row_counts_lines_as_written():
    data = b"text,format,output_name\nFirst,wav,one\n\nSecond,flac,two\n"
    lines = parse_manifest("dropbox/u/c.csv", data)
    assert [(line.line, line.request.output_format, line.output_name) for line in lines] == [
        (2, "wav", "one"),
        (4, "flac", "two"),
    ]


def test_bad_lines_are_reported_and_the_rest_kept():
    lines = parse_manifest(
        "dropbox/u/d.jsonl",
        jsonl(
            {"text": "fine"},
            {"text": "  "},
            {"text": "x", "format": "aiff"},
            "{not json",
            [1, 2],
            {"text": "x", "colour": "blue"},
            {"text": "x", "output_name": "../escape"},
            {"text": "a", "output_name": "same"},
            {"text": "b", "output_name": "same"},
        ),
    )
    codes = [(line.line, line.error_code) for line in lines]
    assert codes == [
        (1, None),
        (2, "EMPTY_TEXT"),
        (3, "VALIDATION_ERROR"),
        (4, "VALIDATION_ERROR"),
        (5, "VALIDATION_ERROR"),
        (6, "VALIDATION_ERROR"),
        (7, "VALIDATION_ERROR"),
        (8, None),
        (9, "DUPLICATE_OUTPUT_NAME"),
    ]
    assert "output_format" in lines[2].error_message and "colour" in lines[5].error_message


@pytest.mark.parametrize(
    "key,data,code",
    [
        ("dropbox/u/x.pdf", b"text", "MANIFEST_UNREADABLE"),
        ("dropbox/u/x.txt", b"\xff\xfe\x00bad", "MANIFEST_UNREADABLE"),
        ("dropbox/u/x.csv", b"voice,format\nv,wav\n", "MANIFEST_UNREADABLE"),
        ("dropbox/u/x.txt", b"\n \n", "MANIFEST_EMPTY"),
        ("dropbox/u/x.txt", b"x" * (1024 * 1024 + 1), "MANIFEST_TOO_LARGE"),
        ("dropbox/u/x.txt", b"hi\n" * (MAX_LINES + 1), "MANIFEST_TOO_LARGE"),
    ],
)
def test_unusable_manifests_are_refused_whole(key, data, code):
    with pytest.raises(ManifestError) as raised:
        parse_manifest(key, data)
    assert raised.value.code == code


def test_a_deeply_nested_line_is_that_lines_error_not_the_manifests():
    deep = "[" * 100_000 + "]" * 100_000
    data = f'{{"text": "fine"}}\n{{"text": {deep}}}\n'.encode()
    lines = parse_manifest("dropbox/u/deep.jsonl", data)
    assert [(line.line, line.error_code) for line in lines] == [(1, None), (2, "VALIDATION_ERROR")]
    assert lines[1].error_message == "JSON nested too deeply"
