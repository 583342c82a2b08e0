"""The editors' questions (front matter `questions`): embedded as questions, matched against the
practitioner's, and fused as a document list with the passages."""

from __future__ import annotations

import dataclasses

from indexer.build import build_index
from indexer.documents import EditorQuestion
from indexer.embed import load_embedder
from search_api.index_store import open_snapshot
from search_api.params import SearchRequest
from search_api.search import search

EDITORS_QUESTION = "hvordan få foreldrene med på å gjøre klassen trygg for alle"
ASKED = "hvordan kan foreldre hjelpe til med at klassen blir et trygt sted"


def _add_question(corpus, name: str, question: str) -> None:
    path = corpus / "docs" / name
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("last_reviewed: 2026-11-27\n---",
                                 f'last_reviewed: 2026-11-27\nquestions:\n  - "{question}"\n---', 1),
                    encoding="utf-8")


def test_a_document_whose_question_matches_is_lifted_and_explained(mini_settings, mini_corpus):
    # the editors' questions are a list of the rule-based fusion (the learned fusion has no such list)
    mini_settings = dataclasses.replace(mini_settings, fusion="rrf")
    _add_question(mini_corpus, "foreldremote-om-skolemiljo.md", EDITORS_QUESTION)
    summary = build_index(mini_settings)
    snap = open_snapshot(mini_settings.current_index)
    assert snap.manifest.counts["questions"] == 1
    assert snap.questions == [EditorQuestion("foreldremote-om-skolemiljo", EDITORS_QUESTION)]
    assert summary.embedded >= 1  # the question, embedded with the query prefix (not in the committed cache)

    embedder = load_embedder(mini_settings.model, mini_settings.threads)
    req = SearchRequest(q=ASKED, explain=True)
    # Off by default (it lowered the practitioner suite); evaluators switch it on by setting.
    off = search(snap, embedder, mini_settings, req)
    assert off.weights["questions"] == 0 and all(h.question_rank is None for h in off.hits)
    on_settings = dataclasses.replace(mini_settings, question_weight=1.0)
    on = search(snap, embedder, on_settings, req)
    # The passages alone put another document first; the matching question lifts this one.
    assert off.hits[0].doc_id != "foreldremote-om-skolemiljo"
    top = on.hits[0]
    assert top.doc_id == "foreldremote-om-skolemiljo"
    assert (top.question_rank, top.question) == (1, EDITORS_QUESTION)
    assert 0.8 < top.question_score <= 1.0
    assert on.weights["questions"] == 1.0
    # The cited passage is still one of the document's own passages.
    assert snap.chunks[top.chunk_id].doc_id == "foreldremote-om-skolemiljo"
    # Without explain the matched question is left out of the response.
    plain = search(snap, embedder, on_settings, SearchRequest(q=ASKED))
    assert plain.hits[0].question is None and plain.hits[0].question_rank == 1


def test_filters_apply_to_the_questions(mini_settings, mini_corpus):
    _add_question(mini_corpus, "foreldremote-om-skolemiljo.md", EDITORS_QUESTION)
    build_index(mini_settings)
    snap = open_snapshot(mini_settings.current_index)
    embedder = load_embedder(mini_settings.model, mini_settings.threads)
    on_settings = dataclasses.replace(mini_settings, question_weight=1.0)
    res = search(snap, embedder, on_settings, SearchRequest(q=ASKED, filters={"theme": ["selvskading"]}))
    assert res.hits and all("selvskading" in h.themes for h in res.hits)
    assert all(h.question_rank is None for h in res.hits)


def test_questions_are_embedded_as_questions_not_passages(mini_settings):
    from indexer.embed import EmbeddingCache, text_key

    embedder = load_embedder(mini_settings.model, mini_settings.threads)
    cache = EmbeddingCache(mini_settings.cache_dir, embedder)
    as_query = cache.embed([EDITORS_QUESTION], role="query")[0]
    as_passage = cache.embed([EDITORS_QUESTION])[0]
    assert abs(float(as_query @ embedder.embed_query(EDITORS_QUESTION)) - 1.0) < 1e-4
    assert float(as_query @ as_passage) < 0.999  # the prefixes differ, so do the vectors
    assert text_key(EDITORS_QUESTION, "query") != text_key(EDITORS_QUESTION)
