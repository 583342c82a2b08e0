"""The index's tables — documents, chunks, themes, the editors' questions, the acute block — as written
by the indexer and read back by the service: the pipeline's own dataclasses (`documents.py`) on both
sides, so the service uses `Document.primary_theme` and `chunk.layout` instead of dictionaries."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date
from pathlib import Path

from .documents import Acute, Chunk, Document, EditorQuestion, Source, Theme
from .manifest import ACUTE, CHUNKS, DOCUMENTS, QUESTIONS, THEMES


def document_record(doc: Document) -> dict:
    rec = asdict(doc)
    rec["published"] = doc.published.isoformat()
    rec["last_reviewed"] = doc.last_reviewed.isoformat()
    return rec


def document_from_record(rec: dict) -> Document:
    return Document(**{
        **rec,
        "themes": tuple(rec["themes"]), "audience": tuple(rec["audience"]),
        "published": date.fromisoformat(rec["published"]), "last_reviewed": date.fromisoformat(rec["last_reviewed"]),
        "sources": tuple(Source(**s) for s in rec["sources"]), "pages": tuple(rec.get("pages", ())),
        "questions": tuple(rec.get("questions", ())),
    })


def chunk_record(chunk: Chunk) -> dict:
    return {"doc_id": chunk.doc_id, "ordinal": chunk.ordinal, "text": chunk.text,
            "heading_path": list(chunk.heading_path), "page": chunk.page, "anchor": chunk.anchor,
            "spans": [list(s) for s in chunk.spans]}


def chunk_from_record(rec: dict) -> Chunk:
    return Chunk(rec["doc_id"], rec["ordinal"], rec["text"], tuple(rec["heading_path"]), rec.get("page"),
                 rec["anchor"], tuple(tuple(s) for s in rec.get("spans", ())))


def write_tables(folder: Path, docs: list[Document], chunks: list[Chunk], themes: list[Theme], acute: Acute,
                 questions: list[tuple[str, str]]) -> None:
    _write_lines(folder / CHUNKS, (chunk_record(c) for c in chunks))
    _write_lines(folder / QUESTIONS, ({"doc_id": doc_id, "text": text} for doc_id, text in questions))
    (folder / DOCUMENTS).write_text(json.dumps([document_record(d) for d in docs], ensure_ascii=False),
                                    encoding="utf-8")
    (folder / THEMES).write_text(json.dumps([asdict(t) for t in themes], ensure_ascii=False), encoding="utf-8")
    (folder / ACUTE).write_text(json.dumps(asdict(acute), ensure_ascii=False), encoding="utf-8")


def read_documents(folder: Path) -> list[Document]:
    return [document_from_record(r) for r in json.loads((folder / DOCUMENTS).read_text(encoding="utf-8"))]


def read_chunks(folder: Path) -> list[Chunk]:
    return [chunk_from_record(r) for r in _read_lines(folder / CHUNKS)]


def read_themes(folder: Path) -> list[Theme]:
    return [Theme(**{**t, "synonyms": tuple(t.get("synonyms", ()))})
            for t in json.loads((folder / THEMES).read_text(encoding="utf-8"))]


def read_questions(folder: Path) -> list[EditorQuestion]:
    return [EditorQuestion(r["doc_id"], r["text"]) for r in _read_lines(folder / QUESTIONS)]


def read_acute(folder: Path) -> Acute:
    path = folder / ACUTE
    data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    return Acute(str(data.get("document", "")), tuple(data.get("phrases", ())))


def _write_lines(path: Path, records) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")


def _read_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
