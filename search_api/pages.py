"""HTML pages (Jinja2): search, document, theme, PDF files. Bokmål UI; works without JavaScript."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated
from urllib.parse import urlencode

from litestar import MediaType, Request, get
from litestar.params import Parameter
from litestar.response import File, Template

from indexer.chunk import layout
from indexer.documents import AUDIENCES, CONTENT_TYPES, LANGUAGES

from .errors import BadParameter, NotFound
from .params import parse_filters
from .routes import get_document, run_search, theme_counts

CONTENT_TYPE_LABELS = {"kunnskap": "Kunnskap", "veileder": "Veileder", "undervisningsmateriell": "Undervisningsmateriell",
                       "kontakt": "Kontakt", "kursmodul": "Kursmodul", "webinar": "Webinar", "forskning": "Forskning"}
AUDIENCE_LABELS = {"sosialfaglig": "Sosialfaglig ansatte", "laerer": "Lærere", "foreldre": "Foreldre",
                   "elever": "Elever", "tjenester": "Hjelpetjenester"}
LANGUAGE_LABELS = {"nb": "Bokmål", "nn": "Nynorsk", "en": "Engelsk"}
EXAMPLES = [
    "hva gjør jeg når en elev forteller at hun blir mobbet?",
    "elev kutter seg",
    "mamma er psykisk syk",
    "korleis snakke med foreldre som er bekymra?",
    "snus og veip på ungdomstrinnet",
]
PAGE_SIZE = 10
_LIST = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")


def register_filters(env) -> None:
    env.globals.update(content_type_labels=CONTENT_TYPE_LABELS, audience_labels=AUDIENCE_LABELS,
                       language_labels=LANGUAGE_LABELS)


def _theme_labels(snap) -> dict[str, str]:
    return {t["id"]: t["label"] for t in snap.themes}


def _page_url(params: dict, **changes) -> str:
    merged = {**params, **changes}
    pairs = [(k, v) for k, vs in merged.items() for v in (vs if isinstance(vs, list) else [vs]) if v not in (None, "")]
    return "/?" + urlencode(pairs)


@get("/", sync_to_thread=True, media_type=MediaType.HTML, include_in_schema=False)
def search_page(
    request: Request,
    q: str | None = None,
    theme: Annotated[list[str] | None, Parameter(required=False)] = None,
    content_type: Annotated[list[str] | None, Parameter(required=False)] = None,
    audience: Annotated[list[str] | None, Parameter(required=False)] = None,
    language: Annotated[list[str] | None, Parameter(required=False)] = None,
    side: str | None = None,
) -> Template:
    snap = request.app.state.store.get()
    filters = parse_filters(snap, theme, content_type, audience, language)
    page_no = 1
    if side not in (None, ""):
        if not side.isdigit() or not 1 <= int(side) <= 50:
            raise BadParameter("side", f"must be a page number from 1 to 50 (got {side[:20]!r})",
                               f"Sidetallet må være fra 1 til 50 (fikk {side[:20]!r}).")
        page_no = int(side)
    params = {"q": q or "", **filters}
    ctx = {"q": (q or "").strip(), "filters": filters, "themes": snap.themes, "theme_labels": _theme_labels(snap),
           "doc_counts": theme_counts(snap), "examples": EXAMPLES, "result": None,
           "content_types": CONTENT_TYPES, "audiences": AUDIENCES, "languages": LANGUAGES,
           "page_no": page_no, "page_url": lambda **kw: _page_url(params, **kw)}
    if ctx["q"]:
        _, req, result = run_search(request, q, filters["theme"], filters["content_type"], filters["audience"],
                                    filters["language"], str(PAGE_SIZE), str((page_no - 1) * PAGE_SIZE), None,
                                    count_themes=True)
        pages = max(1, -(-result.total // PAGE_SIZE))
        ctx.update(result=result, pages=pages, first=req.offset + 1,
                   safety=safety_sections(snap) if result.acute else None,
                   suggestion_url=_page_url({**params, "q": result.did_you_mean}) if result.did_you_mean else None)
    return Template("search.html", context=ctx)


def safety_sections(snap) -> dict | None:
    """The emergency document's sections (their headings say whom to call), each linked to its passage."""
    doc_id = snap.acute.get("document")
    if doc_id not in snap.documents:
        return None
    seen, sections = set(), []
    for row in snap.doc_rows.get(doc_id, []):
        c = snap.chunks[row]
        head = c["heading_path"][0] if c["heading_path"] else None
        if head and head not in seen:
            seen.add(head)
            sections.append({"heading": head, "url": f"/dokument/{doc_id}?avsnitt={c['anchor']}#{c['anchor']}"})
    return {"title": snap.documents[doc_id]["title"], "url": f"/dokument/{doc_id}", "sections": sections}


def render_document(doc: dict, chunks: list[dict], max_words: int, cited: str | None) -> list[dict]:
    """Sections → blocks → sentences, each sentence tagged with the chunk it first appears in."""
    units_owner: dict[tuple[int, int], str] = {}
    cited_units: set[tuple[int, int]] = set()
    for c in chunks:
        for sec, a, b in c["spans"]:
            for u in range(a, b):
                units_owner.setdefault((sec, u), c["anchor"])
                if c["anchor"] == cited:
                    cited_units.add((sec, u))
    placed: set[str] = set()
    view = SimpleNamespace(kind=doc["kind"], body=doc.get("body", ""), pages=tuple(doc.get("pages", ())))
    sections = []
    for sec, (path, page, blocks, units) in enumerate(layout(view, max_words)):
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
    snap = request.app.state.store.get()
    doc = get_document(snap, doc_id)
    chunks = [snap.chunks[r] for r in snap.doc_rows.get(doc_id, [])]
    cited = avsnitt if avsnitt and re.fullmatch(r"c\d{1,5}", avsnitt) else None
    sections = render_document(doc, chunks, snap.manifest.chunking["max_words"], cited)
    return Template("document.html", context={"doc": doc, "sections": sections, "cited": cited,
                                              "theme_labels": _theme_labels(snap)})


@get("/tema/{theme_id:str}", sync_to_thread=False, media_type=MediaType.HTML, include_in_schema=False)
def theme_page(request: Request, theme_id: str) -> Template:
    snap = request.app.state.store.get()
    theme = next((t for t in snap.themes if t["id"] == theme_id), None)
    if theme is None:
        raise NotFound(f"Fant ikke temaet {theme_id[:80]!r}. Gyldige temaer: {', '.join(snap.theme_ids)}.")
    docs = [d for d in snap.documents.values() if theme_id in d["themes"]]
    docs.sort(key=lambda d: (d["themes"][0] != theme_id, d["title"]))
    groups = [(ct, CONTENT_TYPE_LABELS[ct], [d for d in docs if d["content_type"] == ct]) for ct in CONTENT_TYPES]
    return Template("theme.html", context={"theme": theme, "groups": [g for g in groups if g[2]],
                                           "theme_labels": _theme_labels(snap)})


@get("/filer/{name:str}", sync_to_thread=False, include_in_schema=False)
def pdf_file(request: Request, name: str) -> File:
    """A PDF of the corpus by document id: only files the index knows, so no path reaches the disk."""
    snap = request.app.state.store.get()
    doc = snap.documents.get(name.removesuffix(".pdf"))
    if doc is None or doc["kind"] != "pdf" or not name.endswith(".pdf"):
        raise NotFound(f"Fant ingen PDF med navnet {name[:80]!r}.")
    path = _corpus_file(snap.manifest.corpus_dirs, doc["path"])
    if path is None:
        raise NotFound(f"PDF-filen til {doc['id']!r} finnes ikke lenger på disken; kjør `make index`.")
    return File(path=path, filename=path.name, content_disposition_type="inline", media_type="application/pdf")


def _corpus_file(corpus_dirs: list[str], shown: str) -> Path | None:
    first, _, rest = shown.partition("/")
    for d in corpus_dirs:
        d = Path(d)
        if d.name == first:
            candidate = (d / rest).resolve()
            if candidate.is_file() and d.resolve() in candidate.parents:
                return candidate
    return None


PAGE_ROUTES = [search_page, document_page, theme_page, pdf_file]
