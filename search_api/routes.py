"""JSON API routes. Thin: read the query string, ask the service (`service.py`), shape the response."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import msgspec
from litestar import Request, get
from litestar.openapi.spec import OpenAPIType, Operation, Parameter as OpenAPIParameter, Schema
from litestar.params import Parameter

from indexer.filters import FILTERS
from indexer.tables import document_record

from .answer import Answer
from .hits import Hit
from .params import raw_filters
from .service import Service


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
    question (BM25's shrinks with unknown words, grows when one passage stands out, is 0 for an English question
    the English table translates no word of and no theme's English synonym routes)."""


class ThemeOut(msgspec.Struct):
    id: str
    label: str
    label_nn: str
    description: str
    synonyms: list[str]
    documents: int


@dataclass
class WithFilterParameters(Operation):
    """The search's OpenAPI operation, with one parameter per filter of the table (`indexer/filters.py`)."""

    def __post_init__(self) -> None:
        self.parameters = [*(self.parameters or []), *(
            OpenAPIParameter(name=f.param, param_in="query", required=False,
                             description=(f"One of {', '.join(f.values)}" if f.values else "Theme id")
                             + "; repeat for several (any of)",
                             schema=Schema(type=OpenAPIType.ARRAY,
                                           items=Schema(type=OpenAPIType.STRING, enum=list(f.values) if f.values else None)))
            for f in FILTERS)]


@get("/api/search", sync_to_thread=True, summary="Hybrid search with filters; every hit carries its citation",
     operation_class=WithFilterParameters)
def api_search(
    request: Request,
    q: Annotated[str | None, Parameter(description="Question or keywords (required, ≤ 1000 characters)")] = None,
    k: Annotated[str | None, Parameter(description="Hits per page, 1–50 (default 10)")] = None,
    offset: Annotated[str | None, Parameter(description="Skip this many hits, 0–500 (default 0)")] = None,
    explain: Annotated[str | None, Parameter(description="true: add matched terms to each hit and the fusion "
                                                         "weights to the response")] = None,
) -> SearchResponse:
    found = _service(request).search(q, raw_filters(request.query_params), k, offset, explain)
    req, result = found.request, found.result
    return SearchResponse(query=req.q, total=result.total, k=req.k, offset=req.offset,
                          took_ms=round(result.took_ms, 2), filters=req.filters, terms=result.terms,
                          index_generation=result.generation, acute=result.acute,
                          safety_document=found.safety.url if found.safety else None,
                          did_you_mean=result.did_you_mean, answer=result.answer, hits=result.hits,
                          fusion_weights=result.weights if req.explain else None)


@get("/api/themes", sync_to_thread=False, summary="The twelve themes with their document counts")
def api_themes(request: Request) -> list[ThemeOut]:
    return [ThemeOut(id=t.id, label=t.label, label_nn=t.label_nn, description=t.description,
                     synonyms=list(t.synonyms), documents=n) for t, n in _service(request).themes()]


@get("/api/documents/{doc_id:str}", sync_to_thread=False, summary="One document: metadata, sources and passages")
def api_document(request: Request, doc_id: str) -> dict:
    view = _service(request).document(doc_id)
    meta = {k: v for k, v in document_record(view.doc).items() if k not in ("body", "pages", "sha256")}
    passages = [{"anchor": c.anchor, "heading_path": list(c.heading_path), "page": c.page, "text": c.text}
                for c in view.chunks]
    return {**meta, "url": f"/dokument/{doc_id}", "passages": passages}


@get("/healthz", sync_to_thread=False, summary="Liveness and a summary of the served index")
def healthz(request: Request) -> dict:
    return _service(request).health()


API_ROUTES = [api_search, api_themes, api_document, healthz]


def _service(request: Request) -> Service:
    return request.app.state.service
