"""Open an index generation once and follow the `current` link to newer generations.

A request takes one `Snapshot` at its start and uses only that, so a re-index swapped in
mid-request never mixes two generations.
"""

from __future__ import annotations

import gc
import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

import faiss
import numpy as np
import tantivy

from indexer import analysis
from indexer.errors import IndexMissingError
from indexer.manifest import (ACUTE, CHUNKS, DOCUMENTS, QUESTION_VECTORS, QUESTIONS, TANTIVY_DIR, THEMES, VECTORS,
                              Manifest)

from .lexicon import Lexicon, build_lexicon

FILTER_FIELDS = ("theme", "content_type", "audience", "language")


@dataclass
class Snapshot:
    generation: str
    folder: Path
    manifest: Manifest
    index: tantivy.Index
    searcher: tantivy.Searcher
    vectors: faiss.Index
    chunks: list[dict]
    documents: dict[str, dict]
    themes: list[dict]
    row_doc: np.ndarray
    """row → document position (for grouping)."""
    doc_rows: dict[str, list[int]] = field(default_factory=dict)
    """document id → its chunk rows, in order."""
    masks: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    """field → value → boolean mask over chunk rows (filters in the vector retriever)."""
    acute: dict = field(default_factory=dict)
    """{'document': id, 'phrases': [...]} from themes.yml: when to show the safeguarding box."""
    lexicon: Lexicon = field(default_factory=Lexicon)
    """Thesaurus, acute phrases and vocabulary, analysed once for this generation."""
    questions: list[dict] = field(default_factory=list)
    """The editors' questions ({doc_id, text}), row by row of `question_vectors`."""
    question_vectors: faiss.Index | None = None
    question_doc: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    """question row → document position."""
    doc_masks: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    """field → value → boolean mask over document positions."""

    @property
    def theme_ids(self) -> list[str]:
        return [t["id"] for t in self.themes]

    def values(self, name: str) -> list[str]:
        return sorted(self.masks.get(name, {}))


def open_snapshot(folder: Path) -> Snapshot:
    folder = folder.resolve()
    manifest = Manifest.read(folder)
    index = tantivy.Index.open(str(folder / TANTIVY_DIR))
    analysis.register(index)
    index.reload()
    chunks = [json.loads(line) for line in (folder / CHUNKS).read_text(encoding="utf-8").splitlines() if line]
    docs_list = json.loads((folder / DOCUMENTS).read_text(encoding="utf-8"))
    documents = {d["id"]: d for d in docs_list}
    themes = json.loads((folder / THEMES).read_text(encoding="utf-8"))
    doc_pos = {d["id"]: i for i, d in enumerate(docs_list)}
    row_doc = np.array([doc_pos[c["doc_id"]] for c in chunks], dtype=np.int64)
    doc_masks: dict[str, dict[str, np.ndarray]] = {f: {} for f in FILTER_FIELDS}
    for field_name, key, multi in (("theme", "themes", True), ("content_type", "content_type", False),
                                   ("audience", "audience", True), ("language", "language", False)):
        for pos, d in enumerate(docs_list):
            for value in (d[key] if multi else [d[key]]):
                doc_masks[field_name].setdefault(value, np.zeros(len(docs_list), dtype=bool))[pos] = True
    masks = {f: {v: m[row_doc] for v, m in by_value.items()} for f, by_value in doc_masks.items()}
    doc_rows: dict[str, list[int]] = {}
    for row, c in enumerate(chunks):
        doc_rows.setdefault(c["doc_id"], []).append(row)
    acute_path = folder / ACUTE
    acute = json.loads(acute_path.read_text(encoding="utf-8")) if acute_path.exists() else {}
    lexicon = build_lexicon(themes, acute.get("phrases", []), [c["text"] for c in chunks])
    questions = [json.loads(line) for line in (folder / QUESTIONS).read_text(encoding="utf-8").splitlines() if line]
    question_doc = np.array([doc_pos[q["doc_id"]] for q in questions], dtype=np.int64)
    return Snapshot(generation=folder.name, doc_rows=doc_rows, acute=acute, lexicon=lexicon,
                    questions=questions, question_doc=question_doc, doc_masks=doc_masks,
                    question_vectors=faiss.read_index(str(folder / QUESTION_VECTORS)),
                    folder=folder, manifest=manifest, index=index,
                    searcher=index.searcher(), vectors=faiss.read_index(str(folder / VECTORS)),
                    chunks=chunks, documents=documents, themes=themes, row_doc=row_doc, masks=masks)


class IndexStore:
    """Holds the current snapshot; checks the `current` link (one readlink) on each access."""

    def __init__(self, index_dir: Path):
        self.index_dir = Path(index_dir)
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
                except Exception:
                    # A broken new generation must not take the service down: keep serving the old one.
                    if self._snapshot is None:
                        raise
                    self.reload_errors += 1
                    return self._snapshot
                self._snapshot, self._target = new, target
                # A generation's tables (and the model loaded before the first) live for as long as it is
                # served: keep them out of the cyclic collector, whose full passes over them took ~60 ms
                # and showed as one slow request in forty (make bench: page render p99).
                gc.freeze()
            return self._snapshot
