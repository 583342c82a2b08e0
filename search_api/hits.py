"""The one result shape that flows through BM25, vector search, fusion and the API."""

from __future__ import annotations

import msgspec


class Segment(msgspec.Struct):
    text: str
    hit: bool = False


class Citation(msgspec.Struct):
    title: str
    publisher: str
    year: int
    section: str | None
    page: int | None
    url: str
    document_url: str
    file_url: str | None = None


class Hit(msgspec.Struct, kw_only=True):
    chunk_id: int
    doc_id: str
    score: float = 0.0
    bm25_score: float | None = None
    bm25_rank: int | None = None
    vector_score: float | None = None
    vector_rank: int | None = None
    question_score: float | None = None
    """Cosine of the practitioner's question to the closest of the document's editor-written questions."""
    question_rank: int | None = None
    question: str | None = None
    """That editor-written question (explain)."""
    # filled in after fusion
    title: str = ""
    themes: list[str] = []
    content_type: str = ""
    audience: list[str] = []
    language: str = ""
    heading_path: list[str] = []
    page: int | None = None
    anchor: str = ""
    snippet: str = ""
    highlights: list[Segment] = []
    citation: Citation | None = None
    matched_terms: list[str] | None = None
