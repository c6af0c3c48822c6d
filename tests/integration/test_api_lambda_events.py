"""The api function driven with API Gateway HTTP API (payload 2.0) events through Mangum."""

import base64
import json

from tests.fixtures.api import PASSWORD, reset_caches, wav_bytes
from tests.fixtures.aws import api_credentials
from tests.fixtures.jobs import complete
from tests.fixtures.lambda_events import http_api_event, lambda_context
from voxify.aws import acting_as
from voxify.domain.voices import CloneStatus
from voxify.repositories.voices import CloneRepository, SampleRepository


def call(method, path, body=None, headers=None, query=""):
    from functions.api import handler as api_handler

    raw = json.dumps(body) if isinstance(body, dict) else body
    all_headers = {**({"content-type": "application/json"} if isinstance(body, dict) else {}), **(headers or {})}
    with acting_as(api_credentials()):  # as the function's role runs it
        response = api_handler.handler(
            http_api_event(method, path, body=raw, headers=all_headers, query=query), lambda_context("voxify-local-api")
        )
    payload = base64.b64decode(response["body"]) if response.get("isBase64Encoded") else response["body"]
    return response, payload


def multipart(fields, file_field, filename, data, boundary="voxifyboundary"):
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
        + data
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def test_json_multipart_and_binary_audio_through_mangum(stack):
    reset_caches()
    response, body = call(
        "POST",
        "/api/v1/auth/register",
        {"email": "lambda@example.com", "password": PASSWORD, "first_name": "L", "last_name": "A"},
    )
    assert response["statusCode"] == 201, body
    _, body = call("POST", "/api/v1/auth/login", {"email": "lambda@example.com", "password": PASSWORD})
    auth = {"authorization": f"Bearer {json.loads(body)['data']['access_token']}"}

    form, content_type = multipart({"name": "lambda voice"}, "file", "v.wav", wav_bytes())
    response, body = call("POST", "/api/v1/voice/samples", form, {**auth, "content-type": content_type})
    assert response["statusCode"] == 201, body
    sample = json.loads(body)["data"]
    assert sample["format"] == "wav"
    SampleRepository().update(sample["sample_id"], {"status": "ready"})

    response, body = call(
        "POST",
        "/api/v1/voice/clones",
        {"sample_ids": [sample["sample_id"]], "name": "L", "ref_text": "hi", "consent": True},
        auth,
    )
    clone_id = json.loads(body)["data"]["clone_id"]
    CloneRepository().set_status(clone_id, CloneStatus.READY)
    response, body = call("POST", "/api/v1/job", {"text_content": "hi", "voice_model_id": clone_id}, auth)
    job = json.loads(body)["data"]
    complete(job, wav_bytes(0.5))

    response, audio = call("GET", f"/api/v1/file/synthesis/{job['job_id']}", headers=auth, query="inline=1")
    assert response["statusCode"] == 200
    assert response["isBase64Encoded"] is True
    assert audio[:4] == b"RIFF" and audio == wav_bytes(0.5)
    assert response["headers"]["content-type"] == "audio/wav"
    assert response["headers"]["x-request-id"]
