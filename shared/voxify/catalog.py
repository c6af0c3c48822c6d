"""The engine catalog (catalog.toml): one source for what the API advertises and what runs."""

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

CATALOG_PATH = Path(__file__).with_name("catalog.toml")


@lru_cache(maxsize=1)
def _catalog() -> dict[str, Any]:
    with CATALOG_PATH.open("rb") as handle:
        return tomllib.load(handle)


def engine_catalog() -> dict[str, Any]:
    engines: dict[str, Any] = _catalog()["engines"]
    return engines


def region_tags(language: str) -> list[str]:
    """The regional tags (en-US, zh-CN, ...) the documents name for a language."""
    regions: dict[str, list[str]] = _catalog().get("regions", {})
    return regions.get(language, [])


def language_entry(engine: str, language: str) -> dict[str, Any] | None:
    """The model and support level for a language (its primary subtag), or None."""
    languages: dict[str, dict[str, Any]] = engine_catalog()[engine]["languages"]
    return languages.get(language.lower()) or languages.get(language.lower().split("-")[0])
