"""The plain records that flow between pipeline stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

CONTENT_TYPES = ("kunnskap", "veileder", "undervisningsmateriell", "kontakt", "kursmodul", "webinar", "forskning")
AUDIENCES = ("sosialfaglig", "laerer", "foreldre", "elever", "tjenester")
LANGUAGES = ("nb", "nn", "en")


@dataclass(frozen=True)
class Source:
    title: str
    url: str


@dataclass(frozen=True)
class Theme:
    id: str
    label: str
    label_nn: str
    description: str
    synonyms: tuple[str, ...] = ()


@dataclass(frozen=True)
class Document:
    id: str
    title: str
    themes: tuple[str, ...]
    content_type: str
    audience: tuple[str, ...]
    publisher: str
    source_url: str
    published: date
    language: str
    sources: tuple[Source, ...]
    last_reviewed: date
    path: str
    """Path relative to its corpus folder's parent, as shown in messages and citations."""
    kind: str
    """`markdown` or `pdf`."""
    body: str = ""
    """Markdown body (markdown documents)."""
    pages: tuple[str, ...] = ()
    """Text per page (PDF documents)."""
    sha256: str = ""
    """Hash of the file's bytes, for incremental indexing."""
    questions: tuple[str, ...] = ()
    """Questions in practitioners' words that the document answers (front matter `questions`, optional).
    Embedded as questions; a practitioner's question close to one of them lifts the document."""

    @property
    def year(self) -> int:
        return self.published.year

    @property
    def primary_theme(self) -> str:
        return self.themes[0]


@dataclass(frozen=True)
class Chunk:
    doc_id: str
    ordinal: int
    """Position of the chunk within its document (0-based)."""
    text: str
    heading_path: tuple[str, ...] = ()
    page: int | None = None
    """1-based PDF page, None for Markdown."""
    anchor: str = ""
    """Stable anchor on the document page (`c3`)."""
    spans: tuple[tuple[int, int, int], ...] = ()
    """(section or page index, first unit, end unit) of `chunk.layout`: where the passage stands."""

    @property
    def chunk_key(self) -> str:
        return f"{self.doc_id}#{self.ordinal}"


@dataclass(frozen=True)
class EditorQuestion:
    """One of a document's front-matter `questions`, a row of the index's question table."""

    doc_id: str
    text: str


@dataclass(frozen=True)
class Acute:
    """The `acute` block of themes.yml: when to show the safeguarding box, and which document it shows."""

    document: str = ""
    """The emergency document's id (its sections say whom to call now)."""
    phrases: tuple[str, ...] = ()
    """A question is acute when every word of one phrase occurs in it (stemmed)."""


@dataclass
class LoadResult:
    documents: list[Document] = field(default_factory=list)
    problems: list = field(default_factory=list)
