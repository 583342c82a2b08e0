"""The plain records that flow between pipeline stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

CONTENT_TYPES = ("kunnskap", "veileder", "undervisningsmateriell", "kontakt", "kursmodul", "webinar", "forskning", "lov")
"""`lov` is a chapter of a law text read from SOVEI_LAW_DIRS (indexer/laws.py); editors write the others."""
BANK_PUBLISHER = "SoVei kunnskapsbank"
"""The publisher of the bank's own writing: a hit from such a document cites the bank's page."""
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
class Law:
    """What a chapter of a law text (`content_type` `lov`) knows about its law; the sections are its `## §` headings."""

    refid: str
    """Lovdata's id, `lov/2023-06-09-30`: deep links are `https://lovdata.no/<refid>/§<section>`."""
    name: str
    """How the bank's texts cite the law: «opplæringslova» (the mapping's `name`, else the short title)."""
    title: str
    """The law's full title («Lov om … (opplæringslova)»)."""
    chapter: str
    """The chapter heading («Kapittel 12 Skolemiljøet til elevane»), with its part when the law has parts."""
    amended_by: str = ""
    """`sist-endret`: the last amending law worked into this consolidated text (`lov/2025-06-20-39`)."""
    amended_in_force: str = ""
    """`sist-endret-ikrafttredelse`: when that amendment took effect."""
    in_force: str = ""
    """`ikrafttredelse`: the law's commencement date(s), as upstream gives them."""
    aliases: tuple[str, ...] = ()
    """Other names a question may use for the law: the short title, the mapping's aliases and English names."""


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
    law: Law | None = None
    """Set for a chapter of a law text (`content_type` `lov`)."""

    @property
    def year(self) -> int:
        return self.published.year

    @property
    def primary_theme(self) -> str:
        """The first theme; "" for a law chapter the theme mapping leaves out (searchable, in no theme)."""
        return self.themes[0] if self.themes else ""

    @property
    def bank_written(self) -> bool:
        """Written by the bank's editors: its page is the source a hit cites, its `sources` are listed apart."""
        return self.publisher == BANK_PUBLISHER


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
    laws: list = field(default_factory=list)
    """The law texts read (`laws.LawText`), for the law-reference check and the manifest."""
    not_in_force: list = field(default_factory=list)
    """Law files left out because the law has not taken effect (`laws.NotInForce`)."""
