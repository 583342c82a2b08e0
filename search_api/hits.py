"""The one result shape that flows through BM25, vector search, fusion and the API."""

from __future__ import annotations

import msgspec


class Segment(msgspec.Struct):
    text: str
    hit: bool = False


class SourceRef(msgspec.Struct):
    title: str
    url: str


class Citation(msgspec.Struct):
    """Who wrote what: the source a hit is cited from, and, apart, what that source builds on."""

    title: str
    """The document's title; for a law passage the section as the bank cites it («opplæringslova § 12-4 …»)."""
    publisher: str
    year: int
    section: str | None
    """The cited passage's heading path; for a law passage split at its ledd, which ledd («første ledd»)."""
    page: int | None
    url: str
    """The source this passage is cited from: the bank's own page for a bank-written document
    (`/dokument/…`), Lovdata's page of the section for a law passage, the PDF at its page for a PDF,
    and the publisher's page for a document the bank did not write."""
    document_url: str
    file_url: str | None = None
    kind: str = "bank"
    """`bank` (written by the bank), `lov` (a law text, Lovdata), `pdf` (a PDF of the bank), `extern`."""
    sources: list[SourceRef] = []
    """What the document builds on (its front-matter `sources`), listed apart from the source above."""
    license: str | None = None
    """For law text: the NLOD credit («Inneholder data under Norsk lisens for offentlige data (NLOD)
    distribuert av Lovdata»)."""


class Hit(msgspec.Struct, kw_only=True):
    chunk_id: int
    doc_id: str
    unit: str = ""
    """The result this passage counts toward (one passage per result is shown): its document's id, or for a
    law passage its section's (`lov/2023-06-09-30/§12-4`: the law is cited by §, and two sections of one
    chapter are two answers). Empty means the document."""
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

    def __post_init__(self):
        if not self.unit:
            self.unit = self.doc_id


def best_per_result(hits: list[Hit]) -> list[Hit]:
    """The first passage of each result: of each document, and for the law of each section (`Hit.unit`)."""
    seen: set[str] = set()
    out = []
    for h in hits:
        if h.unit not in seen:
            seen.add(h.unit)
            out.append(h)
    return out
