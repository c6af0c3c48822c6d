"""The model store's packaged catalog: the languages F5-TTS routes, as the API advertises them."""

from voxify.catalog import engine_catalog
from voxify_worker.engines.model_store import load_catalog


def test_catalog_languages_agree_with_what_the_api_advertises(tmp_path):
    ours = load_catalog(tmp_path).languages  # an empty store: the packaged catalog
    advertised = engine_catalog()["f5tts"]["languages"]
    assert {tag: (route.model, route.support) for tag, route in ours.items()} == {
        tag: (entry["model"], entry["support"]) for tag, entry in advertised.items()
    }
