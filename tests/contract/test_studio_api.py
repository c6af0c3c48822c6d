"""Specification 004 (the Loqui studio API under /api), as the document writes it."""

from tests.fixtures.api import PASSWORD
from tests.fixtures.worker import reference_speech

ACCOUNT = {"username": "test", "email": "test@test.com", "password": PASSWORD, "full_name": "Test User"}


def studio_user(api):
    created = api.post("/api/auth/register", json=ACCOUNT)
    assert created.status_code == 201, created.text
    token = api.post("/api/auth/login", data={"username": "test", "password": PASSWORD}).json()["access_token"]
    return created.json(), {"Authorization": f"Bearer {token}"}


def test_accounts(api):
    weak = api.post("/api/auth/register", json={"username": "test", "email": "test@test.com", "password": "test123"})
    assert weak.status_code == 400 and "password" in weak.json()["detail"]
    user, headers = studio_user(api)
    assert user == {
        "user_id": user["user_id"],
        "username": "test",
        "email": "test@test.com",
        "full_name": "Test User",
        "created_at": user["created_at"],
        "is_active": True,
    }
    again = api.post("/api/auth/register", json={**ACCOUNT, "email": "other@test.com"})
    assert again.status_code == 400 and again.json() == {"detail": "Username already registered"}
    assert api.get("/api/auth/me", headers=headers).json() == user
    by_email = api.post("/api/auth/login", data={"username": "test@test.com", "password": PASSWORD})
    assert by_email.status_code == 200 and by_email.json()["token_type"] == "bearer"
    wrong = api.post("/api/auth/login", data={"username": "test", "password": "wrong password 1"})
    assert wrong.status_code == 401 and wrong.json() == {"detail": "Incorrect username or password"}
    assert api.get("/api/auth/me").status_code == 401 and "detail" in api.get("/api/auth/me").json()


def test_sample_to_generation_to_library_to_download(api, worker):
    user, headers = studio_user(api)
    uploaded = api.post(
        "/api/samples/upload",
        headers=headers,
        data={"sample_name": "My Voice Sample", "upload_type": "uploaded"},
        files={"file": ("audio.wav", reference_speech(), "audio/wav")},
    )
    assert uploaded.status_code == 201, uploaded.text
    sample = uploaded.json()
    assert sample["sample_name"] == "My Voice Sample" and sample["upload_type"] == "uploaded"
    assert sample["user_id"] == user["user_id"] and sample["file_size"] == len(reference_speech())
    sample_id = sample["sample_id"]
    assert api.get("/api/samples/", headers=headers).json()["total"] == 1
    assert api.get(f"/api/samples/{sample_id}", headers=headers).json()["sample_name"] == "My Voice Sample"

    request = {"sample_id": sample_id, "model_name": "My Custom Voice", "script_text": "Hello world"}
    refused = api.post("/api/generation/create", headers=headers, json=request)
    assert refused.status_code == 400 and '"consent": true' in refused.json()["detail"]
    with worker.in_background():
        created = api.post("/api/generation/create", headers=headers, json={**request, "consent": True})
    assert created.status_code == 201, created.text
    generation = created.json()
    assert generation["status"] == "pending" and generation["output_file_path"] is None
    assert generation["sample_id"] == sample_id and generation["model_name"] == "My Custom Voice"
    audio_id = generation["audio_id"]

    worker.drain()
    status = api.get(f"/api/generation/status/{audio_id}", headers=headers).json()
    assert status["status"] == "completed" and status["progress"] == 100 and status["message"]
    listed = api.get("/api/generation/?skip=0&limit=100", headers=headers).json()
    assert listed["total"] == 1 and listed["generations"][0]["audio_id"] == audio_id
    done = api.get(f"/api/generation/{audio_id}", headers=headers).json()
    assert done["completed_at"] and done["output_file_path"] == f"/api/library/download/generated/{audio_id}"

    library = api.get("/api/library/all?skip=0&limit=100", headers=headers).json()
    assert (library["total"], library["samples_count"], library["generated_count"]) == (2, 1, 1)
    assert {i["item_type"] for i in library["items"]} == {"sample", "generated"}
    assert [i["id"] for i in api.get("/api/library/samples", headers=headers).json()["items"]] == [sample_id]
    assert [i["id"] for i in api.get("/api/library/generated", headers=headers).json()["items"]] == [audio_id]
    for item in library["items"]:
        got = api.get(item["file_path"], headers=headers)
        assert got.status_code == 200 and got.content[:4] == b"RIFF", item

    with worker.in_background():  # the same voice again: no second consent needed
        again = api.post("/api/generation/create", headers=headers, json={**request, "script_text": "Once more."})
    assert again.status_code == 201, again.text
    deleted = api.delete(f"/api/library/generated/{audio_id}", headers=headers)
    assert deleted.status_code == 200 and deleted.json() == {"message": "Item deleted successfully"}
    assert api.delete(f"/api/generation/{again.json()['audio_id']}", headers=headers).status_code == 204
    assert api.delete(f"/api/samples/{sample_id}", headers=headers).status_code == 204
    assert api.get(f"/api/samples/{sample_id}", headers=headers).json() == {"detail": "sample not found"}


def test_other_users_items_are_not_found(api, alice):
    _, headers = studio_user(api)
    sample = alice.post(
        "/api/samples/upload", data={"sample_name": "Mine"}, files={"file": ("a.wav", reference_speech(), "audio/wav")}
    ).json()
    for path in (f"/api/samples/{sample['sample_id']}", f"/api/library/download/sample/{sample['sample_id']}"):
        assert api.get(path, headers=headers).status_code == 404
    assert api.delete(f"/api/samples/{sample['sample_id']}", headers=headers).status_code == 404
    assert api.get("/api/library/download/video/1", headers=headers).status_code == 400
