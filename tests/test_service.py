"""One request reads one index generation, even when a re-index is swapped in while it runs."""

from __future__ import annotations

import re

import pytest

from indexer.build import build_index
from indexer.write import rollback

QUESTION = "eleven kutter seg i armene"
ACUTE_DOC = "nar-en-elev-skader-seg-selv"


@pytest.fixture
def two_generations(mini_settings, mini_corpus):
    """Generation A knows the self-harm document and names it as the emergency document; generation B
    (built after it) no longer has it. `current` points at A."""
    themes = mini_corpus / "themes.yml"
    themes.write_text(themes.read_text(encoding="utf-8")
                      + f"acute:\n  document: {ACUTE_DOC}\n  phrases:\n    - \"kutter seg\"\n", encoding="utf-8")
    a = build_index(mini_settings).generation.name
    (mini_corpus / "docs" / f"{ACUTE_DOC}.md").unlink()
    b = build_index(mini_settings).generation.name
    rollback(mini_settings.index_dir)  # current -> A, previous -> B
    return mini_settings, a, b


class SwapAfterFirstRead:
    """Wraps the store: the first read of a request gets the current generation, and right after it a
    re-index is swapped in (here: the `current` link flips to the other generation)."""

    def __init__(self, store, index_dir):
        self.store, self.index_dir, self.reads, self.armed = store, index_dir, 0, True

    def get(self):
        self.reads += 1
        snap = self.store.get()
        if self.armed:
            self.armed = False
            rollback(self.index_dir)
        return snap


def _store_holder(app):
    return app.state.service


def _without_time(body: str) -> str:
    return re.sub(r'"took_ms":[0-9.]+|\(\d+ ms\)', "", body)


@pytest.mark.parametrize("path", ["/api/search", "/"])
def test_a_generation_swapped_in_mid_request_does_not_mix_into_the_response(two_generations, path):
    from litestar.testing import TestClient

    from search_api.app import create_app

    settings, a, b = two_generations
    with TestClient(app=create_app(settings)) as client:
        before = client.get(path, params={"q": QUESTION})
        assert before.status_code == 200
        assert ACUTE_DOC in before.text  # generation A: the document is a hit and the emergency document

        holder = _store_holder(client.app)
        swapping = SwapAfterFirstRead(holder.store, settings.index_dir)
        holder.store = swapping
        during = client.get(path, params={"q": QUESTION})
        assert swapping.reads == 1
        assert _without_time(during.text) == _without_time(before.text)

        after = client.get(path, params={"q": QUESTION})  # the next request reads generation B
        assert ACUTE_DOC not in after.text
        if path.startswith("/api"):
            assert (before.json()["index_generation"], after.json()["index_generation"]) == (a, b)
