"""The filter table: a filter added there (one line) is indexed, parsed, searched and shown."""

from __future__ import annotations

import sys
from types import MappingProxyType

import pytest

from indexer import filters
from indexer.build import build_index
from indexer.filters import FilterField

FORMAT = FilterField("kind", "kind", "Format", ("markdown", "pdf"), {"markdown": "Tekst", "pdf": "PDF"})


@pytest.fixture
def with_format_filter(monkeypatch):
    """FILTERS with one more line, wherever the table was imported."""
    import search_api.app  # noqa: F401 - every module that reads the table, imported before it changes

    old_table, old_by_param = filters.FILTERS, filters.BY_PARAM
    table = (*old_table, FORMAT)
    by_param = MappingProxyType({f.param: f for f in table})
    for module in list(sys.modules.values()):
        if getattr(module, "FILTERS", None) is old_table:
            monkeypatch.setattr(module, "FILTERS", table)
        if getattr(module, "BY_PARAM", None) is old_by_param:
            monkeypatch.setattr(module, "BY_PARAM", by_param)


def test_every_document_field_of_the_table_exists():
    from dataclasses import fields

    from indexer.documents import Document

    names = {f.name for f in fields(Document)}
    assert all(f.attr in names for f in filters.FILTERS)
    assert [f.param for f in filters.FILTERS] == ["theme", "content_type", "audience", "language"]


def test_a_filter_added_to_the_table_works_end_to_end(with_format_filter, mini_settings):
    from litestar.testing import TestClient

    from search_api.app import create_app

    build_index(mini_settings)
    with TestClient(app=create_app(mini_settings)) as client:
        every = client.get("/api/search", params={"q": "skolefravær", "k": 10}).json()
        assert {h["doc_id"] for h in every["hits"]} > {"skolefravaer"}
        pdf = client.get("/api/search", params={"q": "skolefravær", "kind": "pdf"}).json()
        assert [h["doc_id"] for h in pdf["hits"]] == ["skolefravaer"] and pdf["filters"]["kind"] == ["pdf"]
        bad = client.get("/api/search", params={"q": "skolefravær", "kind": "docx"})
        assert bad.status_code == 400
        assert bad.json()["error"] == "Parameter 'kind' has unknown value 'docx'; valid values: markdown, pdf"
        page = client.get("/", params={"q": "skolefravær", "kind": "pdf"}).text
        assert 'Format <select name="kind">' in page and '<option value="pdf" selected>PDF</option>' in page
        assert 'id="treff-skolefravaer"' in page and 'id="treff-mobbing-i-friminuttet"' not in page
        params = {p["name"] for p in client.get("/schema/openapi.json").json()["paths"]["/api/search"]["get"]["parameters"]}
        assert {"q", "theme", "content_type", "audience", "language", "kind"} <= params
