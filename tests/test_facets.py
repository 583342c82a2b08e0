"""The theme chips' counts come from one candidate pool; they must equal what each theme filter returns."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from evaluations.suites import SUITES_DIR, read_queries
from indexer.embed import load_embedder
from indexer.language import dense_query
from search_api.expand import plan
from search_api.index_store import IndexStore
from search_api.params import SearchRequest
from search_api.hits import best_per_result
from search_api.search import FUSIONS, rank, search

QUESTIONS = list(read_queries(SUITES_DIR / "practitioner" / "queries.jsonl")[0].values())


def filtered_counts(snap, emb, settings, req) -> dict[str, int]:
    """The reference: the same search once per theme, with that theme as its filter."""
    qv = emb.embed_query(dense_query(req.q)) if FUSIONS[settings.fusion].dense else None
    qp = plan(snap, req.q, expand=bool(settings.expansion))
    counts = {}
    for theme in snap.theme_ids:
        req_t = SearchRequest(q=req.q, filters={**req.filters, "theme": [theme]}, k=req.k)
        n = len(best_per_result(rank(snap, emb, settings, req_t, qv, qp)[0]))
        if n:
            counts[theme] = n
    return counts


@pytest.fixture(scope="module")
def bank(corpus_index):
    return IndexStore(corpus_index.index_dir).get(), load_embedder(corpus_index.model, corpus_index.threads)


def test_theme_counts_equal_one_filtered_search_per_theme(bank, corpus_index):
    snap, emb = bank
    differing = []
    for q in QUESTIONS:
        req = SearchRequest(q=q)
        counts = search(snap, emb, corpus_index, req, count_themes=True).theme_counts
        if counts != filtered_counts(snap, emb, corpus_index, req):
            differing.append(q)
    assert not differing
    # not trivially each theme's size (its documents; for the law, its sections): the candidates cut at
    # SOVEI_CANDIDATES passages per list leave results out
    snus = search(snap, emb, corpus_index, SearchRequest(q="snus og veip"), count_themes=True).theme_counts
    size = {t: len(np.unique(snap.row_unit[m])) for t, m in snap.masks["theme"].items()}
    assert {t: n for t, n in size.items() if n} != snus and all(snus[t] <= size[t] for t in snus)


@pytest.mark.parametrize("filters", [
    {"theme": ["mobbeforebygging", "selvskading"]},  # the page's own theme choice is replaced per chip
    {"language": ["nn"]},
    {"content_type": ["veileder", "kursmodul"], "audience": ["foreldre"]},
    {"language": ["en"], "theme": ["psykisk-helse"]},
])
@pytest.mark.parametrize("changes", [{}, {"fusion": "bm25"}, {"fusion": "dense"}, {"fusion": "weighted"},
                                     {"question_weight": 1.0}, {"candidates": 5}])
def test_theme_counts_with_filters_and_every_fusion(bank, corpus_index, filters, changes):
    snap, emb = bank
    settings = dataclasses.replace(corpus_index, **changes)
    for q in QUESTIONS[::13]:
        req = SearchRequest(q=q, filters=filters)
        assert search(snap, emb, settings, req, count_themes=True).theme_counts \
            == filtered_counts(snap, emb, settings, req), q
