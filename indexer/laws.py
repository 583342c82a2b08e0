"""Law texts in the norwegian-laws Markdown format → bank documents: one `Document` per chapter, one `## §`
heading (one passage, `chunk.py`) per section.

The format (github.com/sondreskarsten/norwegian-laws, `lover/<refid>.md`): YAML front matter with `tittel`,
`korttittel`, `refid`, `ikrafttredelse`, `sist-endret`, `sist-endret-ikrafttredelse` (the shared copy adds
`lovdata-url`, `i-kraft` and where it came from), then Lovdata's consolidated text with `#` headings: the
law, parts, chapters («Kapittel 12 …», «Kap. 4 A. …»), and sections («§ 12-4. …», «§ 13 a. …») at whatever
depth they are nested, so sections are found by their `§`, not by their level.

The law texts are read where they lie (`SOVEI_LAW_DIRS`), never copied into the repository. A folder is
either a curated folder of law files (every `*.md` at its top level but the README) or a checkout of the
norwegian-laws repository (it has `lover/`: the laws `corpus/mappings/lovdata.yml` lists are read from
it). How chapters map to themes, and how the bank cites each law, is our own editorial choice in
`corpus/mappings/lovdata.yml` (`LawMapping`). A law that is not in force (`i-kraft: false`, or a
commencement that is only «Kongen bestemmer») is left out and reported, never cited as current law.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import frontmatter
import yaml

from .documents import AUDIENCES, LANGUAGES, Document, Law, Source
from .errors import DocumentError

MAPPING_FILE = Path("mappings") / "lovdata.yml"
PUBLISHER = "Lovdata"
LICENSE = "Inneholder data under Norsk lisens for offentlige data (NLOD) distribuert av Lovdata"
"""The credit NLOD 2.0 asks for, on every page and hit that shows law text."""
REQUIRED = ("tittel", "refid", "ikrafttredelse")

REFID = re.compile(r"^lov/\d{4}-\d{2}-\d{2}(?:-\d+)?$")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*$")
_SECTION_NO = r"\d+(?:\s?[A-Z](?![a-zæøå]))?(?:-\d+)?(?:\s?[a-z](?![a-zæøå]))?"
SECTION_HEADING = re.compile(r"^§\s*(" + _SECTION_NO + r")\.?\s*(.*?)\s*$")
CHAPTER_HEADING = re.compile(r"^(?:Kapittel|Kap\.)\s+(\d+(?:\s?[A-Z](?![a-zæøå]))?|[IVXLC]+)\b\.?\s*(.*?)\s*$")
_AMENDMENT = re.compile(r"^\*.*\*$", re.S)
"""A paragraph in italics is Lovdata's amendment note («*Endra ved lov 14 juni 2024 nr. 36 .*»), not law text."""
_REPEALED = re.compile(r"^\((?:oppheva|opphevet)\)\.?$", re.I)


def section_key(number: str) -> str:
    """«12-4», «13 a» → «12-4», «13a»: how a section is written in ids, links and judgments."""
    return re.sub(r"\s+", "", number)


def chapter_key(number: str) -> str:
    """«4 A», «III» → «4A», «III»: how a chapter is looked up in the mapping."""
    return re.sub(r"\s+", "", number).upper()


def refid_slug(refid: str) -> str:
    return refid.replace("/", "-")


def section_url(refid: str, section: str) -> str:
    """Lovdata's deep link to one section: https://lovdata.no/lov/2023-06-09-30/§12-4."""
    return f"https://lovdata.no/{refid}/§{section_key(section)}"


def section_id(refid: str, section: str) -> str:
    """A section across the bank and the legal suite's judgments: `lov/2023-06-09-30/§12-4`."""
    return f"{refid}/§{section_key(section)}"


# --- the mapping (our editorial choices) -----------------------------------------------------------

@dataclass(frozen=True)
class LawEntry:
    name: str
    aliases: tuple[str, ...] = ()
    english: tuple[str, ...] = ()
    language: str = "nb"
    audience: tuple[str, ...] = ("sosialfaglig", "tjenester")
    chapters: dict = field(default_factory=dict)
    """chapter key → theme ids."""
    digest: str = ""


@dataclass(frozen=True)
class LawMapping:
    path: Path | None = None
    laws: dict = field(default_factory=dict)
    """refid → LawEntry."""
    defaults: LawEntry = LawEntry(name="")

    def entry(self, refid: str) -> LawEntry | None:
        return self.laws.get(refid)


def find_mapping(corpus_dirs) -> Path | None:
    for d in corpus_dirs:
        path = Path(d) / MAPPING_FILE
        if path.exists():
            return path
    return None


def load_mapping(corpus_dirs, theme_ids: set[str]) -> LawMapping:
    """`corpus/mappings/lovdata.yml`, checked: every theme, audience and language is one the bank knows."""
    path = find_mapping(corpus_dirs)
    if path is None:
        return LawMapping()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise DocumentError(path, None, f"is not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("laws", {}), dict):
        raise DocumentError(path, "laws", "must map Lovdata refids (lov/2023-06-09-30) to their settings")
    defaults = _entry(path, "defaults", data.get("defaults") or {}, theme_ids, LawEntry(name=""))
    laws = {}
    for refid, raw in (data.get("laws") or {}).items():
        if not REFID.match(str(refid)):
            raise DocumentError(path, f"laws.{refid}", "is not a Lovdata refid such as lov/2023-06-09-30")
        laws[str(refid)] = _entry(path, f"laws.{refid}", raw or {}, theme_ids, defaults)
    return LawMapping(path, laws, defaults)


def _entry(path: Path, where: str, raw: dict, theme_ids: set[str], defaults: LawEntry) -> LawEntry:
    if not isinstance(raw, dict):
        raise DocumentError(path, where, "must be a mapping (name, language, audience, chapters)")

    def strings(key: str, default: tuple[str, ...]) -> tuple[str, ...]:
        value = raw.get(key, list(default))
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise DocumentError(path, f"{where}.{key}", "must be a list of strings, e.g. [a, b]")
        return tuple(v.strip() for v in value)

    language = str(raw.get("language", defaults.language))
    if language not in LANGUAGES:
        raise DocumentError(path, f"{where}.language", f"{language!r} is not one of: {', '.join(LANGUAGES)}")
    audience = strings("audience", defaults.audience)
    bad = [a for a in audience if a not in AUDIENCES]
    if bad:
        raise DocumentError(path, f"{where}.audience", f"{bad[0]!r} is not one of: {', '.join(AUDIENCES)}")
    chapters = {}
    for number, themes in (raw.get("chapters") or {}).items():
        themes = [themes] if isinstance(themes, str) else themes
        if not isinstance(themes, list) or not themes:
            raise DocumentError(path, f"{where}.chapters.{number}", "must be a non-empty list of theme ids")
        unknown = [t for t in themes if t not in theme_ids]
        if unknown:
            raise DocumentError(path, f"{where}.chapters.{number}", f"unknown theme {unknown[0]!r}; known themes: "
                                f"{', '.join(sorted(theme_ids))}")
        chapters[chapter_key(str(number))] = tuple(themes)
    name = str(raw.get("name", "")).strip()
    digest = hashlib.sha256(repr((name, strings("aliases", ()), language, audience, sorted(chapters.items())))
                            .encode()).hexdigest()
    return LawEntry(name, strings("aliases", ()), strings("english", ()), language, audience, chapters, digest)


# --- the law files ---------------------------------------------------------------------------------

def mapped_refids(corpus_dirs) -> list[str]:
    """The refids the mapping lists, read without checking the rest (for a norwegian-laws checkout)."""
    path = find_mapping(corpus_dirs)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) if path else {}
    except yaml.YAMLError:
        return []  # load_mapping reports it with the file and field
    laws = data.get("laws") if isinstance(data, dict) else None
    return sorted(str(r) for r in laws) if isinstance(laws, dict) else []


def is_law_document(doc_id: str, refids) -> bool:
    """Is `doc_id` a chapter (or the whole) of one of these laws, as the adapter names it
    («lov-2023-06-09-30-kap-12»)? Known without the law files: judgments of law chapters are kept when the
    texts are absent (a clone without ../shared) and simply not counted."""
    return any(doc_id == refid_slug(r) or doc_id.startswith(refid_slug(r) + "-kap-") for r in refids)


def law_files(law_dirs, refids) -> list[tuple[Path, Path]]:
    """(folder, file) for every law file of the configured folders, in a stable order; from a norwegian-laws
    checkout, the laws `refids` names."""
    out = []
    for d in law_dirs:
        d = Path(d)
        if not d.is_dir():
            raise DocumentError(d, None, "law folder not found; check SOVEI_LAW_DIRS (colon-separated folders, "
                                "empty for none)")
        checkout = d / "lover"
        if checkout.is_dir():
            for refid in sorted(refids):
                path = checkout / f"{refid_slug(refid)}.md"
                if not path.exists():
                    raise DocumentError(path, "refid", f"{refid} is in {MAPPING_FILE} but not in this norwegian-laws "
                                        "checkout; update the checkout or remove the law from the mapping")
                out.append((d, path))
        else:
            out += [(d, p) for p in sorted(d.glob("*.md")) if p.is_file() and not p.name.lower().startswith("readme")]
    return out


@dataclass(frozen=True)
class Section:
    number: str
    """As the heading writes it: «12-4», «13 a»."""
    title: str
    """«Plikt til å sikre …»; "" when the heading has none («§ 27 a»)."""
    paragraphs: tuple[str, ...]
    """The ledd, in order; a list belongs to the ledd before it (one paragraph with «- » lines)."""

    @property
    def key(self) -> str:
        return section_key(self.number)

    @property
    def heading(self) -> str:
        return f"§ {self.number}. {self.title}" if self.title else f"§ {self.number}"


@dataclass(frozen=True)
class Chapter:
    number: str
    """«12», «4 A», «III»; "" for sections outside any chapter."""
    heading: str
    """«Kapittel 12 Skolemiljøet til elevane» as the law writes it (trailing full stop dropped)."""
    sections: tuple[Section, ...]


@dataclass(frozen=True)
class LawText:
    path: str
    """As shown in messages: `laws/lov-2023-06-09-30-opplaeringslova.md`."""
    refid: str
    title: str
    short_title: str
    """«Opplæringslova», «Forvaltningsloven» (korttittel without its abbreviation)."""
    in_force: str
    amended_by: str
    amended_in_force: str
    url: str
    sources: tuple[Source, ...]
    chapters: tuple[Chapter, ...]
    sha256: str
    published: date

    @property
    def sections(self) -> list[Section]:
        return [s for c in self.chapters for s in c.sections]


class NotInForce(Exception):
    """A law that has been passed but has not taken effect: left out, with the reason."""

    def __init__(self, path: str, reason: str):
        self.path, self.reason = path, reason
        super().__init__(f"{path}: {reason}")


def read_law(path: Path, shown: str) -> LawText:
    """One law file → its chapters and sections; DocumentError naming the file and field when malformed,
    NotInForce when the law has not taken effect."""
    data = path.read_bytes()
    try:
        post = frontmatter.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise DocumentError(shown, None, f"is not UTF-8 (byte {exc.start}); save it as UTF-8") from None
    except yaml.YAMLError as exc:
        raise DocumentError(shown, "front matter", f"is not valid YAML: {getattr(exc, 'problem', exc)}") from None
    meta = post.metadata
    if not meta:
        raise DocumentError(shown, None, "has no front matter; a law file in the norwegian-laws format starts with "
                            f"'---' and the fields {', '.join(REQUIRED)}")
    missing = [k for k in REQUIRED if not str(meta.get(k) or "").strip()]
    if missing:
        raise DocumentError(shown, missing[0], f"is missing (a law file needs {', '.join(REQUIRED)})")
    refid = str(meta["refid"]).strip()
    if not REFID.match(refid):
        raise DocumentError(shown, "refid", f"{refid!r} is not a Lovdata refid such as lov/2023-06-09-30")
    in_force = str(meta["ikrafttredelse"]).strip()
    if meta.get("i-kraft") is False:
        raise NotInForce(shown, "passed but not in force (i-kraft: false)")
    if not ISO_DATE.search(in_force):
        raise NotInForce(shown, f"passed but not in force (ikrafttredelse: {in_force!r})")
    amended_in_force = str(meta.get("sist-endret-ikrafttredelse") or "").strip()
    if amended_in_force and not ISO_DATE.fullmatch(amended_in_force):
        raise DocumentError(shown, "sist-endret-ikrafttredelse", f"{amended_in_force!r} is not a date; write YYYY-MM-DD")
    amended_by = str(meta.get("sist-endret") or "").strip()
    if amended_by and not REFID.match(amended_by):
        raise DocumentError(shown, "sist-endret", f"{amended_by!r} is not a Lovdata refid such as lov/2025-06-20-39")
    title = " ".join(str(meta["tittel"]).split())
    short = str(meta.get("korttittel") or "").split(" – ")[0].strip()
    if not short:
        m = re.search(r"\(([^)]+)\)\s*$", title)
        short = m.group(1)[:1].upper() + m.group(1)[1:] if m else title
    chapters = parse_body(post.content, shown)
    url = str(meta.get("lovdata-url") or f"https://lovdata.no/{refid}")
    sources = [Source(f"{title} ({refid.upper()}), konsolidert tekst fra Lovdata"
                      + (f", sist endret ved {amended_by}" if amended_by else ""), url)]
    if meta.get("kilde-repo"):
        commit = str(meta.get("kilde-commit") or "")[:12]
        sources.append(Source(f"Markdown fra norwegian-laws ({meta.get('kilde-fil', '')}"
                              + (f", commit {commit}" if commit else "") + ")", str(meta["kilde-repo"])))
    published = date.fromisoformat(amended_in_force or ISO_DATE.search(in_force).group(0))
    return LawText(shown, refid, title, short, in_force, amended_by, amended_in_force, url, tuple(sources),
                   chapters, hashlib.sha256(data).hexdigest(), published)


def parse_body(body: str, shown: str = "") -> tuple[Chapter, ...]:
    """Chapters and their sections, from the headings' text; text under any other heading (the law's
    title, a part, a sub-heading, an appendix) and Lovdata's amendment notes are left out."""
    chapters: list[Chapter] = []
    number, heading, sections = "", "", []
    current: tuple[str, str] | None = None
    lines: list[str] = []

    def close_section():
        nonlocal current, lines
        if current:
            paragraphs = _paragraphs(lines)
            if paragraphs and not _REPEALED.match(current[1]):
                sections.append(Section(current[0], current[1], tuple(paragraphs)))
        current, lines = None, []

    def close_chapter():
        nonlocal sections
        close_section()
        if sections:
            chapters.append(Chapter(number, heading, tuple(sections)))
        sections = []

    for line in body.splitlines():
        m = _HEADING.match(line)
        if not m:
            if current:
                lines.append(line)
            continue
        text = m.group(2)
        sec = SECTION_HEADING.match(text)
        chap = CHAPTER_HEADING.match(text)
        if sec:
            close_section()
            current = (re.sub(r"\s+", " ", sec.group(1)), _clean_title(sec.group(2)))
        elif chap:
            close_chapter()
            number, heading = chap.group(1), text.rstrip(". ")
        else:
            close_section()  # a part, a sub-heading or an appendix: its own text is not a section's
    close_chapter()
    if not chapters:
        raise DocumentError(shown, "body", "has no § headings (e.g. '#### § 1. Formål'); is this a law text in "
                            "the norwegian-laws format?")
    return tuple(chapters)


def _clean_title(title: str) -> str:
    return title.strip().rstrip(".").strip()


def _paragraphs(lines: list[str]) -> list[str]:
    """The ledd of a section: blank-line separated paragraphs, a list joined to the ledd before it,
    amendment notes and «– – –» (omitted text) dropped, the conversion's stray spaces mended."""
    blocks, cur = [], []
    for line in lines + [""]:
        if line.strip():
            cur.append(line.rstrip())
        elif cur:
            blocks.append(cur)
            cur = []
    out: list[str] = []
    for block in blocks:
        text = "\n".join(block).strip()
        if _AMENDMENT.match(text) or text.strip("–- ") == "":
            continue
        text = _mend(text)
        if text.startswith("- ") and out:
            out[-1] = out[-1] + "\n" + text
        else:
            out.append(text)
    return out


def _mend(text: str) -> str:
    """Upstream's stripped cross-references leave «privatskolelova .» and «i§ 3-5»."""
    text = re.sub(r"(?<=\S) +([.,;:)])", r"\1", text)
    return re.sub(r"(?<=[a-zæøå])§", " §", text)


# --- documents -------------------------------------------------------------------------------------

def law_name(law: LawText, entry: LawEntry | None) -> str:
    """How the bank cites the law: the mapping's name, else the short title in lower case («barnelova»)."""
    if entry and entry.name:
        return entry.name
    return law.short_title[:1].lower() + law.short_title[1:]


def chapter_documents(law: LawText, mapping: LawMapping) -> list[Document]:
    """One document per chapter: its sections as `## §` headings, so the chunker cuts one passage each."""
    entry = mapping.entry(law.refid)
    settings = entry or mapping.defaults
    name = law_name(law, entry)
    docs = []
    for chapter in law.chapters:
        key = chapter_key(chapter.number)
        doc_id = f"{refid_slug(law.refid)}-kap-{key.lower()}" if chapter.number else refid_slug(law.refid)
        label = chapter.heading or "Innledende bestemmelser"
        body = "\n\n".join(f"## {s.heading}\n\n" + "\n\n".join(s.paragraphs) for s in chapter.sections)
        digest = hashlib.sha256(f"{law.sha256}:{key}:{settings.digest}:{name}".encode()).hexdigest()
        docs.append(Document(
            id=doc_id, title=f"{law.short_title} – {label}" if chapter.number else law.short_title,
            themes=settings.chapters.get(key, ()), content_type="lov", audience=settings.audience,
            publisher=PUBLISHER, source_url=law.url, published=law.published, language=settings.language,
            sources=law.sources, last_reviewed=law.published, path=f"{law.path}#{key or 'lov'}", kind="markdown",
            body=body, sha256=digest,
            law=Law(refid=law.refid, name=name, title=law.title, chapter=label, amended_by=law.amended_by,
                    amended_in_force=law.amended_in_force, in_force=law.in_force,
                    aliases=tuple(dict.fromkeys(a for a in (law.short_title.lower(), *settings.aliases,
                                                            *settings.english) if a.lower() != name.lower())))))
    return docs


@dataclass
class LoadedLaws:
    laws: list[LawText] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)
    not_in_force: list[NotInForce] = field(default_factory=list)
    problems: list[DocumentError] = field(default_factory=list)


def load_laws(law_dirs, mapping: LawMapping) -> LoadedLaws:
    """Every law of the configured folders as chapter documents; problems collected, not raised."""
    out = LoadedLaws()
    seen: dict[str, str] = {}
    try:
        files = law_files(law_dirs, mapping.laws)
    except DocumentError as exc:
        out.problems.append(exc)
        return out
    for folder, path in files:
        shown = str(Path(folder.name) / path.relative_to(folder))
        try:
            law = read_law(path, shown)
        except NotInForce as exc:
            out.not_in_force.append(exc)
            continue
        except DocumentError as exc:
            out.problems.append(exc)
            continue
        if law.refid in seen:
            out.problems.append(DocumentError(shown, "refid", f"{law.refid} is also in {seen[law.refid]}; keep one "
                                              "version of a law in SOVEI_LAW_DIRS"))
            continue
        seen[law.refid] = shown
        out.laws.append(law)
        out.documents += chapter_documents(law, mapping)
    return out
