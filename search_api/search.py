"""One search: analyse → retrieve (BM25 + vector, filtered) → fuse → one hit per document → cite.

The ranking (`rank`) is one small function per concept, so a change to one is a local change:
- which lists a fusion method uses and how it merges them: `FUSIONS` (a new method is one entry);
- how much BM25 counts for this question: `bm25_weight` (with `peak_factor`);
- the editors' questions as a third, document-level list: `add_questions`;
- the bonus for the theme the thesaurus routes the question to: `boost_routed_themes`;
- the law texts as a second pool, fused apart and placed by what the question asks of the law: `legal.place`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

from indexer.documents import Chunk, Document
from indexer.embed import Embedder
from indexer.language import dense_query
from indexer.laws import LICENSE, section_url
from indexer.settings import Settings

from . import fuse, learned_fusion, legal
from .answer import POLICY as RANK_POLICY, SOURCES as ANSWER_SOURCES
from .answer import Answer, AnswerPolicy, build_answer, is_vague, policy_for
from .expand import QueryPlan, is_acute, plan, suggest
from .facets import theme_counts
from .hits import Citation, Hit, SourceRef, best_per_result
from .index_store import Snapshot
from .params import SearchRequest
from .retrieve import bm25_search, question_search, vector_search
from .snippets import highlight, matched_terms


@dataclass
class SearchResult:
    hits: list[Hit]
    total: int
    took_ms: float
    generation: str
    terms: list[str]
    theme_counts: dict[str, int] | None = None
    """Results (documents; law sections) each theme chip would give: the same search with that theme as the filter."""
    acute: bool = False
    """The question is about acute danger: show who to call now (themes.yml `acute`)."""
    did_you_mean: str | None = None
    answer: Answer | None = None
    """Quoted sentences from the top passages, or an abstention; first page only."""
    weights: dict[str, float] | None = None
    """The weights the lists were fused with for this question (dense, bm25, questions)."""
    translated: bool = False
    """The question is in English: both lists searched its bokmål translation (the answer box abstains)."""
    vague: bool = False
    """Every word of the question is in more than a quarter of the passages («skole», «barn»): the box abstains."""


# --- fusion methods --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Fusion:
    """A fusion method: which retrievers it runs and how it merges their lists ([dense, bm25], best first)."""

    fuse: Callable[[list[list[Hit]], list[float], Settings], list[Hit]] | None
    """Merges weighted lists; None for the learned fusion, which weighs every passage itself."""
    bm25: bool = True
    dense: bool = True
    questions: bool = False
    """The editors' questions may join as a third list (SOVEI_QUESTION_WEIGHT > 0)."""
    theme_boost: bool = True
    """The routed theme's bonus applies (the learned fusion has the routing as one of its features)."""


def _rrf(lists: list[list[Hit]], weights: list[float], settings: Settings) -> list[Hit]:
    return fuse.rrf(lists, weights, k=settings.rrf_k)


def _weighted(lists: list[list[Hit]], weights: list[float], settings: Settings) -> list[Hit]:
    return fuse.weighted(lists, weights, [lambda h: h.vector_score, lambda h: h.bm25_score])


FUSIONS: dict[str, Fusion] = {
    "learned": Fusion(None, theme_boost=False),
    "rrf": Fusion(_rrf, questions=True),
    "weighted": Fusion(_weighted),
    "bm25": Fusion(_rrf, dense=False),
    "dense": Fusion(_rrf, bm25=False, questions=True),
}
"""SOVEI_FUSION → method; `indexer/settings.py` lists the same names as the setting's valid values."""


# --- the ranking -----------------------------------------------------------------------------------

def question_vector(embedder: Embedder, text: str) -> np.ndarray:
    """The question's vector as the served search embeds it (an English one with its bokmål translation:
    `language.dense_query`); `make eval` embeds its questions here too."""
    return embedder.embed_query(dense_query(text))


def rank(snap: Snapshot, embedder: Embedder, settings: Settings, req: SearchRequest,
         query_vector=None, query_plan: QueryPlan | None = None
         ) -> tuple[list[Hit], list[str], dict[str, float]]:
    """Fused chunk ranking (best first), before grouping by document; the query's exact terms; the
    weights the dense, BM25 and editors' questions lists were fused with.

    A caller that already has the query vector and plan passes them, so neither the model nor the
    analysis runs again.
    """
    qp = query_plan or plan(snap, req.q, expand=bool(settings.expansion))
    method = FUSIONS[settings.fusion]
    qv = None
    if method.dense:
        qv = question_vector(embedder, req.q) if query_vector is None else query_vector
    pools = legal.pools(snap, req.filters) if settings.law_ranking else None
    if pools is None:  # no law texts, law ranking off, or the filters leave only one kind
        fused, weights = fuse_pool(snap, settings, method, req, qp, qv, req.filters)
        return fused, qp.exact, weights
    guide_filters, law_filters = pools
    guides, weights = fuse_pool(snap, settings, method, req, qp, qv, guide_filters)
    laws, _ = fuse_pool(snap, settings, method, req, qp, qv, law_filters)
    return legal.place(snap, req.q, guides, laws), qp.exact, weights


def fuse_pool(snap: Snapshot, settings: Settings, method: "Fusion", req: SearchRequest, qp: QueryPlan, qv,
              filters: dict[str, list[str]]) -> tuple[list[Hit], dict[str, float]]:
    """One pool of passages (the filters say which) retrieved by both retrievers and fused."""
    depth = settings.candidates
    dense, bm25 = retrieve_pool(snap, settings, method, qp, qv, filters)
    if method.fuse is None:
        model = learned_fusion.load(settings.fusion_model)
        fused, weights = learned_fusion.fuse(model, dense, bm25, qp.known,
                                             set(qp.themes[:2]), lambda doc_id: snap.documents[doc_id].primary_theme,
                                             depth, qp.idf_mass)
        return fused, {**weights, "questions": 0.0}
    weights = {"dense": 1.0, "bm25": bm25_weight(settings, method, qp, bm25), "questions": question_weight(settings, method)}
    fused = method.fuse([dense, bm25], [weights["dense"], weights["bm25"]], settings)
    if weights["questions"] > 0:
        fused = add_questions(snap, settings, replace(req, filters=filters), qv, fused, weights["questions"])
    return boost_routed_themes(snap, settings, qp.themes, fused), weights


def retrieve_pool(snap: Snapshot, settings: Settings, method: Fusion, qp: QueryPlan, qv,
                  filters: dict[str, list[str]]) -> tuple[list[Hit], list[Hit]]:
    """(dense, BM25) candidates of one pool, as fusion gets them; the learned fusion's training ranks its
    questions through here too (training/fusion.rows_for), so it learns from the lists it will fuse."""
    depth = settings.candidates
    bm25 = bm25_search(snap, qp.terms, filters, depth) if runs_bm25(method, qp) else []
    dense = vector_search(snap, qv, filters, depth) if method.dense else []
    return dense, bm25


def runs_bm25(method: Fusion, qp: QueryPlan) -> bool:
    """Does this question's ranking search BM25? When the fusion uses it and the question has terms (an English
    question: its bokmål translation's, and a routed theme's own terms; with neither, the vectors rank it alone).
    The theme chips ask the same."""
    return method.bm25 and bool(qp.terms)


def bm25_weight(settings: Settings, method: Fusion, qp: QueryPlan, bm25: list[Hit]) -> float:
    """BM25's weight against the dense list's 1 for this question.

    BM25 counts for as much of the question as the bank's vocabulary covers (of an English one: as much as
    the English table translated):
    a misspelt question matches few words, and its few matches are weak evidence against the dense
    ranking; it counts more when its top hit stands out (`peak_factor`). Weights shape a fusion only:
    BM25 alone keeps its own order (and the theme boost)."""
    if not method.dense:
        return 1.0
    return settings.bm25_weight * (qp.known if settings.adaptive else 1.0) * peak_factor(bm25, settings)


def peak_factor(bm25: list[Hit], settings: Settings) -> float:
    """How much more BM25 counts when its top hit stands out from hits 2–10.

    A question that names something (a person, a law, a rare phrase) gives one passage a BM25 score
    far above the rest; a question in everyday words gives a flat list (evaluations/README.md, «How the
    served defaults were chosen»)."""
    if not settings.peak_boost or len(bm25) < 10:
        return 1.0
    rest = sum(h.bm25_score for h in bm25[1:10]) / 9
    ratio = bm25[0].bm25_score / rest if rest > 0 else 1.0
    return 1.0 + settings.peak_boost * max(0.0, ratio - settings.peak_start)


def question_weight(settings: Settings, method: Fusion) -> float:
    return settings.question_weight if method.questions else 0.0


def add_questions(snap: Snapshot, settings: Settings, req: SearchRequest, query_vector: np.ndarray,
                  fused: list[Hit], weight: float) -> list[Hit]:
    """The editors' questions as the vector side's second list: practitioner's words against
    practitioners' words, where the passages speak the profession's."""
    matches = question_search(snap, query_vector, req.filters, settings.candidates)
    return fuse.rrf_documents(fused, matches, weight, settings.rrf_k,
                              lambda doc_id: _first_hit(snap, doc_id))


def _first_hit(snap: Snapshot, doc_id: str) -> Hit:
    """A document's first passage as a hit (a document the editors' questions bring in)."""
    row = snap.doc_rows[doc_id][0]
    return Hit(chunk_id=row, doc_id=doc_id, unit=snap.unit(row))


def boost_routed_themes(snap: Snapshot, settings: Settings, routed_themes: list[str], fused: list[Hit]) -> list[Hit]:
    """Hits whose primary theme is one of the (up to two) themes the thesaurus routes the question to
    gain `theme_boost` of their score."""
    if settings.theme_boost and routed_themes:
        routed = set(routed_themes[:2])
        for h in fused:
            if snap.documents[h.doc_id].primary_theme in routed:
                h.score *= 1.0 + settings.theme_boost
        fused.sort(key=lambda h: -h.score)
    return fused


# --- the search ------------------------------------------------------------------------------------

def answer_policy(settings: Settings) -> AnswerPolicy:
    """The answer box's policy for these settings: the learned fusion's confidence model when its file has one
    (its scores are probabilities the model can read), else the rank rule."""
    if FUSIONS[settings.fusion].fuse is None:
        return policy_for(learned_fusion.load(settings.fusion_model).answer)
    return RANK_POLICY


def search(snap: Snapshot, embedder: Embedder, settings: Settings, req: SearchRequest,
           count_themes: bool = False) -> SearchResult:
    started = time.perf_counter()
    qv = question_vector(embedder, req.q) if FUSIONS[settings.fusion].dense else None
    qp = plan(snap, req.q, expand=bool(settings.expansion))
    fused, terms, weights = rank(snap, embedder, settings, req, qv, qp)
    translated = qp.language == "en"
    policy = answer_policy(settings)
    vague = is_vague(qp.rarest_share, policy)
    docs = best_per_result(fused)
    page = docs[req.offset:req.offset + req.k]
    term_set = set(terms)
    for h in page:
        enrich(snap, h, term_set, req.explain)
    answer = None
    if req.offset == 0:
        for h in docs[len(page):ANSWER_SOURCES]:  # with k < 3 the answer can quote a hit past the page
            enrich(snap, h, term_set)
        answer = build_answer(snap, docs[:ANSWER_SOURCES], terms, qp.themes, policy, translated=translated, vague=vague)
    counts = None
    if count_themes:
        method = FUSIONS[settings.fusion]
        counts = theme_counts(snap, req, qp, qv, settings.candidates, runs_bm25(method, qp), method.dense,
                              weights["questions"],
                              bool(settings.law_ranking))
    return SearchResult(hits=page, total=len(docs), took_ms=(time.perf_counter() - started) * 1000,
                        generation=snap.generation, terms=terms, theme_counts=counts,
                        acute=is_acute(snap, req.q, qp), did_you_mean=suggest(snap, req.q, qp), answer=answer,
                        weights=weights, translated=translated, vague=vague)


def citation(doc: Document, chunk: Chunk) -> Citation:
    """Who wrote what: a bank-written passage cites the bank's page (its own sources listed apart), a law
    passage cites Lovdata's page of its section, a PDF passage the PDF at its page."""
    section = " › ".join(chunk.heading_path) or None
    document_url = f"/dokument/{doc.id}#{chunk.anchor}"
    page_url = f"/dokument/{doc.id}?avsnitt={chunk.anchor}#{chunk.anchor}"
    sources = [SourceRef(s.title, s.url) for s in doc.sources]
    if doc.law:
        key = legal.section_of(chunk)
        return Citation(title=legal.cited_as(doc, chunk), publisher=doc.publisher, year=doc.year,
                        section=" › ".join(chunk.heading_path[1:]) or None, page=None,
                        url=section_url(doc.law.refid, key) if key else doc.source_url, document_url=page_url,
                        kind="lov", sources=sources, license=LICENSE)
    if doc.kind == "pdf":
        file_url = f"/filer/{doc.id}.pdf" + (f"#page={chunk.page}" if chunk.page else "")
        return Citation(title=doc.title, publisher=doc.publisher, year=doc.year, section=section, page=chunk.page,
                        url=file_url, document_url=document_url, file_url=file_url, kind="pdf", sources=sources)
    if doc.bank_written:
        return Citation(title=doc.title, publisher=doc.publisher, year=doc.year, section=section, page=None,
                        url=page_url, document_url=document_url, kind="bank", sources=sources)
    return Citation(title=doc.title, publisher=doc.publisher, year=doc.year, section=section, page=None,
                    url=doc.source_url, document_url=document_url, kind="extern", sources=sources)


def enrich(snap: Snapshot, h: Hit, terms: set[str], explain: bool = False) -> Hit:
    chunk = snap.chunks[h.chunk_id]
    doc = snap.documents[h.doc_id]
    h.title, h.themes, h.content_type = doc.title, list(doc.themes), doc.content_type
    h.audience, h.language = list(doc.audience), doc.language
    h.heading_path, h.page, h.anchor = list(chunk.heading_path), chunk.page, chunk.anchor
    h.snippet, h.highlights = highlight(chunk.text, terms)
    h.citation = citation(doc, chunk)
    if doc.law:  # a law hit is its section («Opplæringslova § 12-4 …»), found in its chapter (and ledd)
        h.title = h.citation.title[:1].upper() + h.citation.title[1:]
        h.heading_path = [doc.law.chapter, *chunk.heading_path[1:]]
    if explain:
        h.matched_terms = matched_terms(" ".join([doc.title, *chunk.heading_path, chunk.text]), terms)
    else:
        h.question = None  # the editors' question that matched: for evaluators, not for every response
    return h
