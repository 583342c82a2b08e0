"""What a request asks of the bank, for the JSON routes and the pages alike: one snapshot per request.

Each method reads the current index generation once (`IndexStore.get`) and hands that snapshot to
everything the request needs — parameter checks, the search, the theme counts, the safeguarding box,
the labels — so a re-index swapped in while a request runs never mixes two generations into one
response. The routes (`routes.py`) and pages (`pages.py`) only shape what these methods return.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from indexer.documents import Chunk, Document, Theme
from indexer.embed import Embedder
from indexer.errors import NotFound
from indexer.filters import BY_PARAM
from indexer.settings import Settings

from .index_store import IndexStore, Snapshot
from .params import SearchRequest, clean_query, parse_filters, parse_page_number, parse_search
from .search import SearchResult, search

PAGE_SIZE = 10
MAX_PAGES = 50


@dataclass(frozen=True)
class Section:
    heading: str
    url: str


@dataclass(frozen=True)
class Safety:
    """The emergency document shown above the results of a question about acute danger."""

    title: str
    url: str
    sections: list[Section]
    """Its sections (their headings say whom to call), each linked to its first passage."""


@dataclass(frozen=True)
class Searched:
    request: SearchRequest
    result: SearchResult
    safety: Safety | None
    """Set when the question is acute and this generation has the emergency document."""


@dataclass(frozen=True)
class SearchPage:
    """The search page: its form, the theme overview, and the results when there is a question."""

    q: str
    filters: dict[str, list[str]]
    page_no: int
    themes: list[Theme]
    theme_labels: dict[str, str]
    theme_documents: dict[str, int]
    searched: Searched | None


@dataclass(frozen=True)
class DocumentView:
    doc: Document
    chunks: list[Chunk]
    max_words: int
    """The chunking's max_words: the page replays the chunker's layout with it to place the anchors."""
    theme_labels: dict[str, str]


@dataclass(frozen=True)
class ThemeView:
    theme: Theme
    groups: list[tuple[str, list[Document]]]
    """(content type, its documents), in the filter table's order of content types; empty groups left out."""
    theme_labels: dict[str, str]


class Service:
    def __init__(self, settings: Settings, embedder: Embedder, store: IndexStore):
        self.settings, self.embedder, self.store = settings, embedder, store

    def search(self, q: str | None, filters: Mapping, k: str | None, offset: str | None,
               explain: str | None) -> Searched:
        """The JSON search: parameters as typed in the query string."""
        snap = self.store.get()
        req = parse_search(snap, self.settings.max_query_chars, q=q, filters=filters, k=k, offset=offset,
                           explain=explain)
        return self._searched(snap, req, count_themes=False)

    def search_page(self, q: str | None, filters: Mapping, side: str | None) -> SearchPage:
        snap = self.store.get()
        parsed = parse_filters(snap, filters)
        page_no = parse_page_number(side, MAX_PAGES)
        text = (q or "").strip()
        searched = None
        if text:
            req = SearchRequest(q=clean_query(q, self.settings.max_query_chars), filters=parsed, k=PAGE_SIZE,
                                offset=(page_no - 1) * PAGE_SIZE)
            searched = self._searched(snap, req, count_themes=True)
        return SearchPage(q=text, filters=parsed, page_no=page_no, themes=snap.themes,
                          theme_labels=snap.theme_labels, theme_documents=snap.theme_documents, searched=searched)

    def themes(self) -> list[tuple[Theme, int]]:
        """Every theme with how many documents carry it."""
        snap = self.store.get()
        return [(t, snap.theme_documents.get(t.id, 0)) for t in snap.themes]

    def document(self, doc_id: str) -> DocumentView:
        snap = self.store.get()
        doc = snap.documents.get(doc_id)
        if doc is None:
            raise NotFound(f"Fant ikke dokumentet {doc_id[:80]!r}.")
        return DocumentView(doc, snap.chunks_of(doc_id), snap.manifest.chunking["max_words"], snap.theme_labels)

    def theme(self, theme_id: str) -> ThemeView:
        snap = self.store.get()
        theme = snap.theme(theme_id)
        if theme is None:
            raise NotFound(f"Fant ikke temaet {theme_id[:80]!r}. Gyldige temaer: {', '.join(snap.theme_ids)}.")
        docs = sorted((d for d in snap.documents.values() if theme_id in d.themes),
                      key=lambda d: (d.primary_theme != theme_id, d.title))
        groups = [(ct, [d for d in docs if d.content_type == ct]) for ct in BY_PARAM["content_type"].values]
        return ThemeView(theme, [g for g in groups if g[1]], snap.theme_labels)

    def pdf(self, name: str) -> Path:
        """A PDF of the corpus by document id: only files the index knows, so no path reaches the disk."""
        snap = self.store.get()
        doc = snap.documents.get(name.removesuffix(".pdf"))
        if doc is None or doc.kind != "pdf" or not name.endswith(".pdf"):
            raise NotFound(f"Fant ingen PDF med navnet {name[:80]!r}.")
        path = _corpus_file(snap.manifest.corpus_dirs, doc.path)
        if path is None:
            raise NotFound(f"PDF-filen til {doc.id!r} finnes ikke lenger på disken; kjør `make index`.")
        return path

    def health(self) -> dict:
        snap = self.store.get()
        m = snap.manifest
        return {"status": "ok", "generation": snap.generation, "created": m.created, "model": m.model_id,
                "dimension": m.dimension, "analyzer": m.analyzer, "chunking": m.chunking,
                "documents": m.counts.get("documents"), "chunks": m.counts.get("chunks"),
                "fusion": self.settings.fusion, "corpus_hash": m.corpus_hash[:12]}

    def _searched(self, snap: Snapshot, req: SearchRequest, count_themes: bool) -> Searched:
        result = search(snap, self.embedder, self.settings, req, count_themes=count_themes)
        return Searched(req, result, safety(snap) if result.acute else None)


def safety(snap: Snapshot) -> Safety | None:
    """The emergency document's sections, each linked to its passage; None when this generation lacks it."""
    doc_id = snap.acute.document
    if doc_id not in snap.documents:
        return None
    seen, sections = set(), []
    for c in snap.chunks_of(doc_id):
        head = c.heading_path[0] if c.heading_path else None
        if head and head not in seen:
            seen.add(head)
            sections.append(Section(head, f"/dokument/{doc_id}?avsnitt={c.anchor}#{c.anchor}"))
    return Safety(snap.documents[doc_id].title, f"/dokument/{doc_id}", sections)


def _corpus_file(corpus_dirs: list[str], shown: str) -> Path | None:
    first, _, rest = shown.partition("/")
    for d in corpus_dirs:
        d = Path(d)
        if d.name == first:
            candidate = (d / rest).resolve()
            if candidate.is_file() and d.resolve() in candidate.parents:
                return candidate
    return None
