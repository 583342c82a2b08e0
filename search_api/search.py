"""One search: analyse → retrieve (BM25 + vector, filtered) → fuse → one hit per document → cite."""

from __future__ import annotations

import time
from dataclasses import dataclass

from indexer.embed import Embedder
from indexer.settings import Settings

from . import fuse, learned_fusion
from .answer import SOURCES as ANSWER_SOURCES, Answer, build_answer
from .expand import QueryPlan, is_acute, plan, suggest
from .hits import Citation, Hit
from .index_store import Snapshot
from .params import SearchRequest
from .retrieve import bm25_search, question_search, vector_search
from .snippets import highlight, matched_terms

FUSIONS = ("learned", "rrf", "weighted", "bm25", "dense")


@dataclass
class SearchResult:
    hits: list[Hit]
    total: int
    took_ms: float
    generation: str
    terms: list[str]
    theme_counts: dict[str, int] | None = None
    """Documents each theme chip would give: the same search with that theme as the filter."""
    acute: bool = False
    """The question is about acute danger: show who to call now (themes.yml `acute`)."""
    did_you_mean: str | None = None
    answer: Answer | None = None
    """Quoted sentences from the top passages, or an abstention; first page only."""
    weights: dict[str, float] | None = None
    """The weights the two lists were fused with for this question (dense, bm25)."""


def rank(snap: Snapshot, embedder: Embedder, settings: Settings, req: SearchRequest,
         query_vector=None, query_plan: QueryPlan | None = None
         ) -> tuple[list[Hit], list[str], dict[str, float]]:
    """Fused chunk ranking (best first), before grouping by document; the query's exact terms; the
    weights the dense and BM25 lists were fused with.

    A caller ranking the same question several times (per-theme counts) passes the query vector and
    plan, so neither the model nor the analysis runs again.
    """
    qp = query_plan or plan(snap, req.q, expand=bool(settings.expansion))
    terms = qp.exact
    depth = settings.candidates
    method = settings.fusion
    bm25 = bm25_search(snap, qp.terms, req.filters, depth) if method != "dense" else []
    dense = []
    if method != "bm25":
        qv = embedder.embed_query(req.q) if query_vector is None else query_vector
        dense = vector_search(snap, qv, req.filters, depth)
    if method == "learned":
        model = learned_fusion.load(settings.fusion_model)
        fused = learned_fusion.fuse(model, dense, bm25, qp.known, set(qp.themes[:2]),
                                    lambda doc_id: snap.documents[doc_id]["themes"][0], depth)
        return fused, terms, {"dense": 1.0, "bm25": 1.0, "questions": 0.0}
    # BM25 counts for as much of the question as the bank's vocabulary covers (none of an English one):
    # a misspelt question matches few words, and its few matches are weak evidence against the dense
    # ranking. Weights shape a fusion only: BM25 alone keeps its own order and the theme boost.
    if method == "bm25":
        bm25_weight = 1.0
    else:
        bm25_weight = settings.bm25_weight * (qp.known if settings.adaptive else 1.0) * peak_factor(bm25, settings)
    lists, weights = [dense, bm25], [1.0, bm25_weight]
    if method == "weighted":
        fused = fuse.weighted(lists, weights, [lambda h: h.vector_score, lambda h: h.bm25_score])
    elif method in ("rrf", "bm25", "dense"):
        fused = fuse.rrf(lists, weights, k=settings.rrf_k)
    else:
        raise ValueError(f"SOVEI_FUSION={method!r} is not one of {', '.join(FUSIONS)}")
    question_weight = settings.question_weight if method in ("rrf", "dense") else 0.0
    if question_weight > 0:
        # The editors' questions are the vector side's second list: practitioner's words against
        # practitioners' words, where the passages speak the profession's.
        matches = question_search(snap, qv, req.filters, depth)
        fused = fuse.rrf_documents(fused, matches, question_weight, settings.rrf_k,
                                   lambda doc_id: Hit(chunk_id=snap.doc_rows[doc_id][0], doc_id=doc_id))
    if settings.theme_boost and qp.themes:
        routed = set(qp.themes[:2])
        for h in fused:
            if snap.documents[h.doc_id]["themes"][0] in routed:
                h.score *= 1.0 + settings.theme_boost
        fused.sort(key=lambda h: -h.score)
    return fused, terms, {"dense": 1.0, "bm25": bm25_weight, "questions": question_weight}


def peak_factor(bm25: list[Hit], settings: Settings) -> float:
    """How much more BM25 counts when its top hit stands out from hits 2–10.

    A question that names something (a person, a law, a rare phrase) gives one passage a BM25 score
    far above the rest; a question in everyday words gives a flat list. Chosen with make eval:
    NorQuAD 0.943 -> 0.952, practitioner unchanged (evaluations/README.md)."""
    if not settings.peak_boost or len(bm25) < 10:
        return 1.0
    rest = sum(h.bm25_score for h in bm25[1:10]) / 9
    ratio = bm25[0].bm25_score / rest if rest > 0 else 1.0
    return 1.0 + settings.peak_boost * max(0.0, ratio - settings.peak_start)


def best_per_document(hits: list[Hit]) -> list[Hit]:
    seen: set[str] = set()
    out = []
    for h in hits:
        if h.doc_id not in seen:
            seen.add(h.doc_id)
            out.append(h)
    return out


def search(snap: Snapshot, embedder: Embedder, settings: Settings, req: SearchRequest,
           count_themes: bool = False) -> SearchResult:
    started = time.perf_counter()
    qv = embedder.embed_query(req.q) if settings.fusion != "bm25" else None
    qp = plan(snap, req.q, expand=bool(settings.expansion))
    fused, terms, weights = rank(snap, embedder, settings, req, qv, qp)
    docs = best_per_document(fused)
    page = docs[req.offset:req.offset + req.k]
    term_set = set(terms)
    for h in page:
        enrich(snap, h, term_set, req.explain)
    answer = None
    if req.offset == 0:
        for h in docs[len(page):ANSWER_SOURCES]:  # with k < 3 the answer can quote a hit past the page
            enrich(snap, h, term_set)
        answer = build_answer(snap, docs[:ANSWER_SOURCES], terms, qp.themes)
    counts = None
    if count_themes:
        counts = {}
        for theme in snap.theme_ids:
            req_t = SearchRequest(q=req.q, filters={**req.filters, "theme": [theme]}, k=req.k)
            n = len(best_per_document(rank(snap, embedder, settings, req_t, qv, qp)[0]))
            if n:
                counts[theme] = n
    return SearchResult(hits=page, total=len(docs), took_ms=(time.perf_counter() - started) * 1000,
                        generation=snap.generation, terms=terms, theme_counts=counts,
                        acute=is_acute(snap, req.q, qp), did_you_mean=suggest(snap, req.q, qp), answer=answer,
                        weights=weights)


def citation(doc: dict, chunk: dict) -> Citation:
    section = " › ".join(chunk["heading_path"]) or None
    page = chunk.get("page")
    file_url = None
    if doc["kind"] == "pdf":
        file_url = f"/filer/{doc['id']}.pdf" + (f"#page={page}" if page else "")
    return Citation(title=doc["title"], publisher=doc["publisher"], year=int(doc["published"][:4]),
                    section=section, page=page, url=doc["source_url"],
                    document_url=f"/dokument/{doc['id']}#{chunk['anchor']}", file_url=file_url)


def enrich(snap: Snapshot, h: Hit, terms: set[str], explain: bool = False) -> Hit:
    chunk = snap.chunks[h.chunk_id]
    doc = snap.documents[h.doc_id]
    h.title, h.themes, h.content_type = doc["title"], list(doc["themes"]), doc["content_type"]
    h.audience, h.language = list(doc["audience"]), doc["language"]
    h.heading_path, h.page, h.anchor = list(chunk["heading_path"]), chunk.get("page"), chunk["anchor"]
    h.snippet, h.highlights = highlight(chunk["text"], terms)
    h.citation = citation(doc, chunk)
    if explain:
        h.matched_terms = matched_terms(" ".join([doc["title"], *chunk["heading_path"], chunk["text"]]), terms)
    else:
        h.question = None  # the editors' question that matched: for evaluators, not for every response
    return h
