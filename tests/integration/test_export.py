"""GET /api/v1/auth/export: one archive with everything a user owns, and nothing of anyone else's."""

import io
import json
import zipfile

from tests.fixtures.voices import ready_clone

FILES = {
    "manifest.json",
    "profile.json",
    "api_keys.json",
    "samples.json",
    "clones.json",
    "consent.json",
    "jobs.json",
    "batches.json",
    "webhooks.json",
    "audio.json",
}


def own_things(user) -> dict:
    clone = ready_clone(user, name=f"{user.email} voice")
    job = user.post("/api/v1/job", json={"text_content": f"Said by {user.email}.", "voice_model_id": clone})
    hook = user.post("/api/v1/webhooks", json={"url": "https://hooks.example.com/voxify"})
    key = user.post("/api/v1/api-keys", json={"name": "ci"})
    assert job.status_code == 201 and hook.status_code == 201 and key.status_code == 201, (job.text, hook.text)
    return {"clone": clone, "job": job.json()["data"], "hook": hook.json()["data"], "key": key.json()["data"]}


def test_the_export_holds_what_the_user_owns_and_nothing_of_others(alice, bob):
    mine, theirs = own_things(alice), own_things(bob)
    response = alice.get("/api/v1/auth/export")
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        files = {name: json.loads(archive.read(name)) for name in archive.namelist()}
    assert set(files) == FILES
    assert files["profile.json"]["email"] == alice.email
    assert [c["clone_id"] for c in files["clones.json"]] == [mine["clone"]]
    (consent,) = files["consent.json"]
    assert consent["clone_id"] == mine["clone"] and consent["attested_by"] == alice.user_id
    assert [j["job_id"] for j in files["jobs.json"]] == [mine["job"]["job_id"]]
    assert files["jobs.json"][0]["blocks"][0]["text"] == f"Said by {alice.email}."
    assert [s["sample_id"] for s in files["samples.json"]] == [files["clones.json"][0]["sample_ids"][0]]
    assert files["audio.json"] == [files["samples.json"][0]["original_key"]]
    assert [w["webhook_id"] for w in files["webhooks.json"]] == [mine["hook"]["webhook_id"]]
    assert [k["key_id"] for k in files["api_keys.json"]] == [mine["key"]["key_id"]]

    everything = json.dumps(files)
    for secret in (mine["hook"]["secret"], mine["key"]["key"], "password_hash", "key_hash"):
        assert secret not in everything
    for other in (bob.user_id, bob.email, theirs["clone"], theirs["job"]["job_id"], theirs["hook"]["webhook_id"]):
        assert other not in everything
