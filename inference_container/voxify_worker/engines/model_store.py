"""Where F5-TTS weights come from: the model store, and Hugging Face only when allowed.

The store is an S3 prefix (settings.model_s3_prefix in the audio bucket) that the worker
mirrors once into a local directory at start, so synthesis never waits on S3 and a restarted
container on the same disk downloads nothing. The catalog (f5tts_models.yaml) says which
files in that directory make up each model and which language each model serves.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from botocore.exceptions import BotoCoreError, ClientError

from voxify import aws
from voxify.catalog import engine_catalog
from voxify.observability import logger
from voxify.settings import get_settings

CATALOG_FILE = "f5tts_models.yaml"
PACKAGED_CATALOG = Path(__file__).with_name(CATALOG_FILE)


@dataclass(frozen=True)
class ModelSpec:
    name: str
    dir: str
    checkpoint: str
    vocab: str
    arch: dict[str, Any]  # keyword arguments of f5_tts.model.DiT
    hub: dict[str, str] | None  # {repo, checkpoint, vocab}: paths inside a Hugging Face repo


@dataclass(frozen=True)
class Route:
    model: str
    support: str  # native | specialized | fallback


@dataclass(frozen=True)
class Catalog:
    default_model: str
    vocoder_dir: str
    vocoder_hub: dict[str, str] | None
    models: dict[str, ModelSpec]
    languages: dict[str, Route]

    def route(self, language: str) -> Route:
        """The model for a language tag ("pt-BR" falls back to "pt"), else the default model."""
        tag = language.strip().lower().replace("_", "-")
        route = self.languages.get(tag) or self.languages.get(tag.split("-")[0])
        return route or Route(self.default_model, "fallback")


def load_catalog(store: Path) -> Catalog:
    """The store's own catalog when it carries one (new fine-tunes need no new image)."""
    path = store / CATALOG_FILE if (store / CATALOG_FILE).is_file() else PACKAGED_CATALOG
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    models = {
        name: ModelSpec(
            name=name,
            dir=entry["dir"],
            checkpoint=entry["checkpoint"],
            vocab=entry["vocab"],
            arch=dict(entry["arch"]),
            hub=entry.get("hub"),
        )
        for name, entry in raw["models"].items()
    }
    # the language map is the one the API advertises, unless a store brings its own
    raw_languages = raw.get("languages") or engine_catalog()["f5tts"]["languages"]
    languages = {tag: Route(entry["model"], entry["support"]) for tag, entry in raw_languages.items()}
    vocoder = raw["vocoder"]
    return Catalog(raw["default_model"], vocoder["dir"], vocoder.get("hub"), models, languages)


class ModelStore:
    """Local model files, optionally completed from Hugging Face when the operator allows it."""

    def __init__(self, root: Path, allow_hub_download: bool = False) -> None:
        self.root = root
        self.allow_hub_download = allow_hub_download
        self.catalog = load_catalog(root)
        self._hub_failures: set[tuple[str, str]] = set()  # tried once per process, not per job

    def model_files(self, name: str) -> tuple[Path, Path] | None:
        """(checkpoint, vocab) of a model, or None when it is neither here nor fetchable."""
        spec = self.catalog.models.get(name)
        if spec is None:
            return None
        directory = self.root / spec.dir
        checkpoint, vocab = directory / spec.checkpoint, directory / spec.vocab
        if not (checkpoint.is_file() and vocab.is_file()) and spec.hub:
            self._fetch(spec.hub["repo"], {spec.hub["checkpoint"]: checkpoint, spec.hub["vocab"]: vocab})
        return (checkpoint, vocab) if checkpoint.is_file() and vocab.is_file() else None

    def vocoder_dir(self) -> Path | None:
        """The Vocos directory (config.yaml + pytorch_model.bin), or None when missing."""
        directory = self.root / self.catalog.vocoder_dir
        config, weights = directory / "config.yaml", directory / "pytorch_model.bin"
        hub = self.catalog.vocoder_hub
        if not (config.is_file() and weights.is_file()) and hub:
            self._fetch(hub["repo"], {hub["config"]: config, hub["weights"]: weights})
        return directory if config.is_file() and weights.is_file() else None

    def _fetch(self, repo: str, targets: dict[str, Path]) -> None:
        """Download repo files to their store paths; failures leave them missing, not half there."""
        if not self.allow_hub_download:
            return
        # Imported here so that syncing and inspecting the store works without f5-tts installed.
        from huggingface_hub import hf_hub_download

        self.root.mkdir(parents=True, exist_ok=True)
        for filename, target in targets.items():
            if target.is_file() or (repo, filename) in self._hub_failures:
                continue
            try:
                with tempfile.TemporaryDirectory(dir=self.root) as scratch:
                    fetched = hf_hub_download(repo_id=repo, filename=filename, local_dir=scratch)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.move(fetched, target)
            except Exception as error:
                self._hub_failures.add((repo, filename))
                logger.warning("hub download failed", extra={"repo": repo, "file": filename, "error": str(error)[:300]})
                return


def download_model_store(cache_dir: Path, *, bucket: str | None = None, prefix: str | None = None) -> list[str]:
    """Mirror the S3 model store into cache_dir; returns the files it had to download.

    Files already present with the object's size are skipped, so calling this at every
    container start costs one listing. Each file lands under a temporary name first: a crash
    mid-download never leaves a truncated checkpoint that looks complete.
    """
    settings = get_settings()
    bucket = bucket or settings.audio_bucket
    prefix = settings.model_s3_prefix if prefix is None else prefix
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    root = cache_dir.resolve()
    s3 = aws.client("s3")
    downloaded: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            relative = item["Key"][len(prefix) :]
            target = (root / relative).resolve()
            if not relative or relative.endswith("/") or not target.is_relative_to(root):
                continue
            if target.is_file() and target.stat().st_size == item["Size"]:
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(target.name + ".part")
            s3.download_file(bucket, item["Key"], str(partial))
            partial.replace(target)
            downloaded.append(relative)
    logger.info("model store synced", extra={"bucket": bucket, "prefix": prefix, "downloaded": len(downloaded)})
    return downloaded


def open_worker_store() -> ModelStore:
    """The worker's store: the S3 model store mirrored into the local cache directory.

    An unreachable or empty S3 store is not fatal: whatever the cache already holds (or the
    hub, where allowed) may still serve, and the engine reports MODEL_UNAVAILABLE otherwise.
    """
    settings = get_settings()
    cache = Path(settings.model_cache_dir).expanduser()
    try:
        download_model_store(cache)
    except (BotoCoreError, ClientError) as error:
        logger.warning("model store not synced", extra={"error": str(error)[:300]})
    return ModelStore(cache, allow_hub_download=settings.allow_hub_download)
