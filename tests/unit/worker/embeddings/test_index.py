"""`VoiceIndex.at_least`, the impersonation guard's query: every other user's voice at or
above a similarity, however many there are, on a local LanceDB folder."""

import numpy as np
import pytest

from voxify_worker.embeddings.encoder import EMBEDDING_MODEL, EMBEDDING_SIZE
from voxify_worker.embeddings.index import FIRST_PAGE, VoiceIndex


def unit(vector: np.ndarray) -> np.ndarray:
    return (vector / np.linalg.norm(vector)).astype(np.float32)


def near(base: np.ndarray, similarity: float, rng: np.random.Generator) -> np.ndarray:
    """A unit vector at exactly `similarity` (cosine) from unit vector `base`."""
    noise = rng.standard_normal(EMBEDDING_SIZE)
    orthogonal = unit(noise - np.dot(noise, base) * base)
    return unit(similarity * base + np.sqrt(1 - similarity**2) * orthogonal)


def row(voice_id: str, user_id: str, kind: str, vector: np.ndarray, model: str = EMBEDDING_MODEL) -> dict:
    return {
        "voice_id": voice_id,
        "user_id": user_id,
        "kind": kind,
        "name": voice_id,
        "model": model,
        "created_at": "2026-01-01T00:00:00Z",
        "vector": vector.tolist(),
    }


@pytest.fixture
def voice() -> np.ndarray:
    return unit(np.random.default_rng(1).standard_normal(EMBEDDING_SIZE))


@pytest.fixture
def index(tmp_path) -> VoiceIndex:
    return VoiceIndex(str(tmp_path / "vectors"))


def test_every_voice_above_the_threshold_is_found_not_a_fixed_top_k(index, voice) -> None:
    rng = np.random.default_rng(2)
    decoys = [row(f"vox_decoy{i}", f"usr_decoy{i}", "clone", near(voice, 0.99, rng)) for i in range(3 * FIRST_PAGE)]
    index.add_many([*decoys, row("vox_victim", "usr_victim", "clone", near(voice, 0.80, rng))])
    index.add_many([row(f"vox_far{i}", f"usr_far{i}", "clone", near(voice, 0.50, rng)) for i in range(20)])

    (found,) = index.at_least([voice], 0.70, other_than_user="usr_attacker", kinds=("clone", "sample"))
    assert len(found) == 3 * FIRST_PAGE + 1
    assert found[-1]["voice_id"] == "vox_victim" and found[-1]["similarity"] == pytest.approx(0.80, abs=1e-3)
    assert [r["similarity"] for r in found] == sorted((r["similarity"] for r in found), reverse=True)


def test_the_owner_other_models_and_kinds_are_left_out(index, voice) -> None:
    rng = np.random.default_rng(3)
    index.add_many(
        [
            row("vox_own", "usr_me", "clone", near(voice, 0.95, rng)),
            row("vox_old_model", "usr_b", "clone", near(voice, 0.95, rng), model="older-encoder"),
            row("smp_b", "usr_b", "sample", near(voice, 0.90, rng)),
            row("vox_b", "usr_b", "clone", near(voice, 0.85, rng)),
        ]
    )
    (both,) = index.at_least([voice], 0.70, other_than_user="usr_me", model=EMBEDDING_MODEL)
    assert [r["voice_id"] for r in both] == ["smp_b", "vox_b"]
    (clones,) = index.at_least([voice], 0.70, other_than_user="usr_me", kinds=("clone",), model=EMBEDDING_MODEL)
    assert [r["voice_id"] for r in clones] == ["vox_b"]
    assert index.at_least([voice], 0.96, other_than_user="usr_me") == [[]]


def test_each_probe_gets_its_own_answer(index, voice) -> None:
    rng = np.random.default_rng(4)
    other = unit(rng.standard_normal(EMBEDDING_SIZE))
    index.add_many([row("vox_a", "usr_a", "clone", near(voice, 0.9, rng)), row("smp_b", "usr_b", "sample", other)])
    first, second, third = index.at_least([voice, other, near(voice, 0.0, rng)], 0.70)
    assert [r["voice_id"] for r in first] == ["vox_a"]
    assert [r["voice_id"] for r in second] == ["smp_b"] and second[0]["similarity"] == pytest.approx(1.0, abs=1e-4)
    assert third == [] and index.at_least([], 0.70) == []


def traces(folder, needles: list[bytes]) -> list[str]:
    """The files under `folder` holding any of `needles`, as raw bytes."""
    return [
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if p.is_file() and any(n in p.read_bytes() for n in needles)
    ]


def test_a_deleted_voice_leaves_no_trace_in_any_version_or_file(tmp_path, voice) -> None:
    """LanceDB's delete only marks a row: its embedding would stay in the data file, in every
    older version (time travel) and its id in the delete's own transaction."""
    import lancedb

    from voxify_worker.embeddings.index import TABLE

    folder = tmp_path / "vectors"
    index = VoiceIndex(str(folder))
    rng = np.random.default_rng(5)
    others = [row(f"vox_other{i}", "usr_other", "clone", unit(rng.standard_normal(EMBEDDING_SIZE))) for i in range(40)]
    index.add_many([*others[:20], row("vox_gone", "usr_gone", "sample", voice), *others[20:]])
    index.upsert("vox_kept", "usr_kept", "clone", "Kept", EMBEDDING_MODEL, near(voice, 0.9, rng))
    index.upsert("vox_gone", "usr_gone", "sample", "Gone", EMBEDDING_MODEL, voice)  # a second copy, re-embedded
    needles = [voice.astype(np.float32).tobytes()[:64], b"vox_gone", b"usr_gone"]
    assert traces(folder, needles)

    index.delete("vox_gone")

    assert index.vector("vox_gone") is None and index.vector("vox_kept") is not None
    table = lancedb.connect(str(folder)).open_table(TABLE)
    for version in index.versions():
        table.checkout(version)
        assert "vox_gone" not in table.to_arrow().column("voice_id").to_pylist(), f"version {version}"
    assert table.count_rows() == 41
    assert traces(folder, needles) == []
    index.delete("vox_gone")  # a redelivered forget
    assert len(index.versions()) == 1 and traces(folder, needles) == []
