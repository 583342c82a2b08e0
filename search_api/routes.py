"""JSON API routes. Thin: parse parameters, call search, shape the response."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Request, get
from litestar.params import Parameter

from indexer.documents import AUDIENCES, CONTENT_TYPES, LANGUAGES

from .answer import Answer
from .errors import NotFound
from .hits import Hit
from .params import parse_search
from .search import search


class SearchResponse(msgspec.Struct):
    query: str
    total: int
    k: int
    offset: int
    took_ms: float
    filters: dict[str, list[str]]
    terms: list[str]
    index_generation: str
    acute: bool
    """The question concerns acute danger; `safety_document` says who to call now."""
    safety_document: str | None
    did_you_mean: str | None
    answer: Answer | None
    """Up to 3 sentences quoted from the top hits, each with its hit number and citation; or
    `answered: false` with a message and the closest themes. Absent (null) after the first page."""
    hits: list[Hit]
    fusion_weights: dict[str, float] | None = None
    """With explain=true: the weights the dense, BM25 and editors' questions lists were fused with for this
    question (BM25's shrinks with unknown words, grows when one passage stands out, is 0 for English)."""


class ThemeOut(msgspec.Struct):
    id: str
    label: str
    label_nn: str
    description: str
    synonyms: list[str]
    documents: int


Multi = Annotated[list[str] | None, Parameter(required=False)]


def run_search(request: Request, q, theme, content_type, audience, language, k, offset, explain,
               count_themes: bool = False):
    state = request.app.state
    snap = state.store.get()
    req = parse_search(snap, state.settings.max_query_chars, q=q, theme=theme, content_type=content_type,
                       audience=audience, language=language, k=k, offset=offset, explain=explain)
    return snap, req, search(snap, state.embedder, state.settings, req, count_themes=count_themes)


@get("/api/search", sync_to_thread=True, summary="Hybrid search with filters; every hit carries its citation")
def api_search(
    request: Request,
    q: Annotated[str | None, Parameter(description="Question or keywords (required, ≤ 1000 characters)")] = None,
    theme: Annotated[list[str] | None, Parameter(description="Theme id; repeat for several (any of)")] = None,
    content_type: Annotated[list[str] | None, Parameter(description=f"One of {', '.join(CONTENT_TYPES)}")] = None,
    audience: Annotated[list[str] | None, Parameter(description=f"One of {', '.join(AUDIENCES)}")] = None,
    language: Annotated[list[str] | None, Parameter(description=f"One of {', '.join(LANGUAGES)}")] = None,
    k: Annotated[str | None, Parameter(description="Hits per page, 1–50 (default 10)")] = None,
    offset: Annotated[str | None, Parameter(description="Skip this many hits, 0–500 (default 0)")] = None,
    explain: Annotated[str | None, Parameter(description="true: add matched terms to each hit and the fusion "
                                                         "weights to the response")] = None,
) -> SearchResponse:
    _, req, result = run_search(request, q, theme, content_type, audience, language, k, offset, explain)
    return SearchResponse(query=req.q, total=result.total, k=req.k, offset=req.offset,
                          took_ms=round(result.took_ms, 2), filters=req.filters, terms=result.terms,
                          index_generation=result.generation, acute=result.acute,
                          safety_document=safety_url(request.app.state.store.get()) if result.acute else None,
                          did_you_mean=result.did_you_mean, answer=result.answer, hits=result.hits,
                          fusion_weights=result.weights if req.explain else None)


def safety_url(snap) -> str | None:
    doc = snap.acute.get("document")
    return f"/dokument/{doc}" if doc in snap.documents else None


def theme_counts(snap) -> dict[str, int]:
    counts = dict.fromkeys(snap.theme_ids, 0)
    for d in snap.documents.values():
        for t in d["themes"]:
            counts[t] = counts.get(t, 0) + 1
    return counts


@get("/api/themes", sync_to_thread=False, summary="The twelve themes with their document counts")
def api_themes(request: Request) -> list[ThemeOut]:
    snap = request.app.state.store.get()
    counts = theme_counts(snap)
    return [ThemeOut(id=t["id"], label=t["label"], label_nn=t["label_nn"], description=t["description"],
                     synonyms=list(t["synonyms"]), documents=counts.get(t["id"], 0)) for t in snap.themes]


def get_document(snap, doc_id: str) -> dict:
    doc = snap.documents.get(doc_id)
    if doc is None:
        raise NotFound(f"Fant ikke dokumentet {doc_id[:80]!r}.")
    return doc


@get("/api/documents/{doc_id:str}", sync_to_thread=False, summary="One document: metadata, sources and passages")
def api_document(request: Request, doc_id: str) -> dict:
    snap = request.app.state.store.get()
    doc = get_document(snap, doc_id)
    chunks = [{"anchor": c["anchor"], "heading_path": c["heading_path"], "page": c["page"], "text": c["text"]}
              for c in (snap.chunks[r] for r in snap.doc_rows.get(doc_id, []))]
    meta = {k: v for k, v in doc.items() if k not in ("body", "pages", "sha256")}
    return {**meta, "url": f"/dokument/{doc_id}", "passages": chunks}


@get("/healthz", sync_to_thread=False, summary="Liveness and a summary of the served index")
def healthz(request: Request) -> dict:
    snap = request.app.state.store.get()
    m = snap.manifest
    return {"status": "ok", "generation": snap.generation, "created": m.created, "model": m.model_id,
            "dimension": m.dimension, "analyzer": m.analyzer, "chunking": m.chunking,
            "documents": m.counts.get("documents"), "chunks": m.counts.get("chunks"),
            "fusion": request.app.state.settings.fusion, "corpus_hash": m.corpus_hash[:12]}


API_ROUTES = [api_search, api_themes, api_document, healthz]
