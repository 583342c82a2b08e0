"""HTML pages (Jinja2): search, document, theme, PDF files. Bokmål UI; works without JavaScript.

Thin: read the query string, ask the service (`service.py`), lay out what it returns.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

from litestar import MediaType, Request, get
from litestar.response import File, Template

from indexer.chunk import layout
from indexer.documents import Chunk, Document
from indexer.filters import FILTERS

from .params import raw_filters
from .service import PAGE_SIZE, Service

EXAMPLES = [
    "hva gjør jeg når en elev forteller at hun blir mobbet?",
    "elev kutter seg",
    "mamma er psykisk syk",
    "korleis snakke med foreldre som er bekymra?",
    "snus og veip på ungdomstrinnet",
]
_LIST = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")


def register_filters(env) -> None:
    """The filter table and its value labels, for every template (`labels.content_type[v]`)."""
    env.globals.update(filter_fields=FILTERS, labels={f.param: f.value_labels for f in FILTERS})


def _page_url(params: dict, **changes) -> str:
    merged = {**params, **changes}
    pairs = [(k, v) for k, vs in merged.items() for v in (vs if isinstance(vs, list) else [vs]) if v not in (None, "")]
    return "/?" + urlencode(pairs)


@get("/", sync_to_thread=True, media_type=MediaType.HTML, include_in_schema=False)
def search_page(request: Request, q: str | None = None, side: str | None = None) -> Template:
    page = _service(request).search_page(q, raw_filters(request.query_params), side)
    params = {"q": q or "", **page.filters}
    options = {f.param: ([(t.id, t.label) for t in page.themes] if f.values is None
                         else [(v, f.value_labels.get(v, v)) for v in f.values]) for f in FILTERS}
    ctx = {"q": page.q, "filters": page.filters, "filtered": any(page.filters.values()), "options": options,
           "themes": page.themes, "theme_labels": page.theme_labels, "doc_counts": page.theme_documents,
           "examples": EXAMPLES, "result": None, "page_no": page.page_no,
           "page_url": lambda **kw: _page_url(params, **kw)}
    found = page.searched
    if found:
        result = found.result
        ctx.update(result=result, pages=max(1, -(-result.total // PAGE_SIZE)), first=found.request.offset + 1,
                   facet_counts={"theme": result.theme_counts}, safety=found.safety,
                   suggestion_url=_page_url({**params, "q": result.did_you_mean}) if result.did_you_mean else None)
    return Template("search.html", context=ctx)


def render_document(doc: Document, chunks: list[Chunk], max_words: int, cited: str | None) -> list[dict]:
    """Sections → blocks → sentences, each sentence tagged with the chunk it first appears in."""
    units_owner: dict[tuple[int, int], str] = {}
    cited_units: set[tuple[int, int]] = set()
    for c in chunks:
        for sec, a, b in c.spans:
            for u in range(a, b):
                units_owner.setdefault((sec, u), c.anchor)
                if c.anchor == cited:
                    cited_units.add((sec, u))
    placed: set[str] = set()
    sections = []
    for sec, (path, page, blocks, units) in enumerate(layout(doc, max_words)):
        out_blocks = [{"list": bool(_LIST.match(b)), "sentences": []} for b in blocks]
        for u, (block_no, text) in enumerate(units):
            owner = units_owner.get((sec, u))
            anchor = owner if owner and owner not in placed else None
            if anchor:
                placed.add(anchor)
            if out_blocks[block_no]["list"] and not out_blocks[block_no]["sentences"]:
                text = _LIST.sub("", text)
            out_blocks[block_no]["sentences"].append({"text": text, "anchor": anchor,
                                                      "cited": (sec, u) in cited_units})
        sections.append({"heading": path[-1] if path else None, "level": min(len(path) + 1, 4),
                         "page": page, "blocks": out_blocks})
    return sections


@get("/dokument/{doc_id:str}", sync_to_thread=False, media_type=MediaType.HTML, include_in_schema=False)
def document_page(request: Request, doc_id: str, avsnitt: str | None = None) -> Template:
    view = _service(request).document(doc_id)
    cited = avsnitt if avsnitt and re.fullmatch(r"c\d{1,5}", avsnitt) else None
    sections = render_document(view.doc, view.chunks, view.max_words, cited)
    return Template("document.html", context={"doc": view.doc, "sections": sections, "cited": cited,
                                              "theme_labels": view.theme_labels})


@get("/tema/{theme_id:str}", sync_to_thread=False, media_type=MediaType.HTML, include_in_schema=False)
def theme_page(request: Request, theme_id: str) -> Template:
    view = _service(request).theme(theme_id)
    return Template("theme.html", context={"theme": view.theme, "groups": view.groups,
                                           "theme_labels": view.theme_labels})


@get("/filer/{name:str}", sync_to_thread=False, include_in_schema=False)
def pdf_file(request: Request, name: str) -> File:
    path = _service(request).pdf(name)
    return File(path=path, filename=path.name, content_disposition_type="inline", media_type="application/pdf")


PAGE_ROUTES = [search_page, document_page, theme_page, pdf_file]


def _service(request: Request) -> Service:
    return request.app.state.service
