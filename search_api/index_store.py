"""Open an index generation once and follow the `current` link to newer generations.

The service (`service.py`) takes one `Snapshot` per request and uses only that, so a re-index
swapped in mid-request never mixes two generations.
"""

from __future__ import annotations

import gc
import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

import faiss
import numpy as np
import tantivy

from indexer import analysis
from indexer.documents import Acute, Chunk, Document, EditorQuestion, Theme
from indexer.errors import IndexMissingError
from indexer.filters import FILTERS, FilterField
from indexer.manifest import QUESTION_VECTORS, TANTIVY_DIR, VECTORS, Manifest
from indexer.tables import read_acute, read_chunks, read_documents, read_questions, read_themes

from .legal import LawSections, build_law_sections
from .lexicon import Lexicon, build_lexicon

log = logging.getLogger("sovei.index")


@dataclass
class Snapshot:
    """One index generation, read once: the pipeline's own records plus what the retrievers need."""

    generation: str
    folder: Path
    manifest: Manifest
    index: tantivy.Index
    searcher: tantivy.Searcher
    vectors: faiss.Index
    chunks: list[Chunk]
    documents: dict[str, Document]
    themes: list[Theme]
    row_doc: np.ndarray
    """row → document position (for grouping)."""
    row_unit: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    """row → result position (`Hit.unit`): its document's position, or for a law passage one past the documents
    per section (the theme chips count results)."""
    doc_rows: dict[str, list[int]] = field(default_factory=dict)
    """document id → its chunk rows, in order."""
    masks: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    """filter parameter → value → boolean mask over chunk rows (filters in the vector retriever)."""
    acute: Acute = Acute()
    """When to show the safeguarding box, and the emergency document it shows (themes.yml `acute`)."""
    lexicon: Lexicon = field(default_factory=Lexicon)
    """Thesaurus, acute phrases and vocabulary, analysed once for this generation."""
    questions: list[EditorQuestion] = field(default_factory=list)
    """The editors' questions, row by row of `question_vectors`."""
    question_vectors: faiss.Index | None = None
    question_doc: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    """question row → document position."""
    doc_masks: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    """filter parameter → value → boolean mask over document positions."""
    theme_documents: dict[str, int] = field(default_factory=dict)
    """theme id → how many documents carry it (any position)."""
    laws: LawSections = field(default_factory=LawSections)
    """The law texts' names and sections → passage rows (empty without laws): `legal.py`."""

    @property
    def theme_ids(self) -> list[str]:
        return [t.id for t in self.themes]

    @property
    def theme_labels(self) -> dict[str, str]:
        return {t.id: t.label for t in self.themes}

    def theme(self, theme_id: str) -> Theme | None:
        return next((t for t in self.themes if t.id == theme_id), None)

    def allowed(self, f: FilterField) -> list[str]:
        """The values a filter accepts: the table's list, or this generation's themes."""
        return list(f.values) if f.values is not None else self.theme_ids

    def chunks_of(self, doc_id: str) -> list[Chunk]:
        return [self.chunks[r] for r in self.doc_rows.get(doc_id, [])]

    def unit(self, row: int) -> str:
        """The result a passage row counts toward (`Hit.unit`): its law section's id, else its document's."""
        return self.laws.row_unit.get(row) or self.chunks[row].doc_id


def open_snapshot(folder: Path) -> Snapshot:
    folder = folder.resolve()
    manifest = Manifest.read(folder)
    index = tantivy.Index.open(str(folder / TANTIVY_DIR))
    analysis.register(index)
    index.reload()
    chunks = read_chunks(folder)
    docs_list = read_documents(folder)
    themes = read_themes(folder)
    doc_pos = {d.id: i for i, d in enumerate(docs_list)}
    row_doc = np.array([doc_pos[c.doc_id] for c in chunks], dtype=np.int64)
    doc_masks: dict[str, dict[str, np.ndarray]] = {f.param: {} for f in FILTERS}
    for f in FILTERS:
        for pos, d in enumerate(docs_list):
            for value in f.of(d):
                doc_masks[f.param].setdefault(value, np.zeros(len(docs_list), dtype=bool))[pos] = True
    masks = {name: {v: m[row_doc] for v, m in by_value.items()} for name, by_value in doc_masks.items()}
    doc_rows: dict[str, list[int]] = {}
    for row, c in enumerate(chunks):
        doc_rows.setdefault(c.doc_id, []).append(row)
    acute = read_acute(folder)
    lexicon = build_lexicon(themes, acute.phrases, [c.text for c in chunks])
    questions = read_questions(folder)
    question_doc = np.array([doc_pos[q.doc_id] for q in questions], dtype=np.int64)
    theme_documents = dict.fromkeys((t.id for t in themes), 0)
    for d in docs_list:
        for t in d.themes:
            theme_documents[t] = theme_documents.get(t, 0) + 1
    laws = build_law_sections({d.id: d for d in docs_list}, chunks)
    sections = {u: len(docs_list) + i for i, u in enumerate(dict.fromkeys(laws.row_unit.values()))}
    row_unit = np.array([sections[laws.row_unit[r]] if r in laws.row_unit else d for r, d in enumerate(row_doc)],
                        dtype=np.int64)
    return Snapshot(generation=folder.name, doc_rows=doc_rows, acute=acute, lexicon=lexicon,
                    questions=questions, question_doc=question_doc, doc_masks=doc_masks,
                    question_vectors=faiss.read_index(str(folder / QUESTION_VECTORS)),
                    folder=folder, manifest=manifest, index=index,
                    searcher=index.searcher(), vectors=faiss.read_index(str(folder / VECTORS)),
                    chunks=chunks, documents={d.id: d for d in docs_list}, themes=themes, row_doc=row_doc,
                    masks=masks, theme_documents=theme_documents, laws=laws, row_unit=row_unit)


class IndexStore:
    """Holds the current snapshot; checks the `current` link (one readlink) on each access."""

    def __init__(self, index_dir: Path, model_id: str | None = None):
        """`model_id`: the service's model; a generation built with another (another adapter, @bf16) is not served,
        at start or later — `make index` under another SOVEI_MODEL beside a running service must not have its
        questions compared with vectors of another model."""
        self.index_dir = Path(index_dir)
        self.model_id = model_id
        self._lock = threading.Lock()
        self._target: str | None = None
        self._snapshot: Snapshot | None = None
        self.reload_errors = 0

    def _link_target(self) -> str:
        link = self.index_dir / "current"
        try:
            return os.readlink(link)
        except OSError:
            if (link / "manifest.json").exists():  # a plain folder instead of a link
                return str(link)
            raise IndexMissingError(f"No index at {link}. Build it with `make index`.") from None

    def get(self) -> Snapshot:
        target = self._link_target()
        snap = self._snapshot
        if snap is not None and target == self._target:
            return snap
        with self._lock:
            if self._snapshot is None or target != self._target:
                try:
                    new = open_snapshot(self.index_dir / target)
                    if self.model_id is not None:
                        new.manifest.check_compatible(self.model_id, analysis.ANALYZER)
                except Exception as exc:
                    # A broken or mismatched new generation must not take the service down: keep serving the old one.
                    if self._snapshot is None:
                        raise
                    self.reload_errors += 1
                    log.warning("index generation %s not served, still serving %s: %s", target,
                                self._snapshot.generation, exc)
                    return self._snapshot
                self._snapshot, self._target = new, target
                # A generation's tables (and the model loaded before the first) live for as long as it is
                # served: keep them out of the cyclic collector, whose full passes over them took ~60 ms
                # and showed as one slow request in forty (make bench: page render p99).
                gc.freeze()
            return self._snapshot
