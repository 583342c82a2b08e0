"""`make check-corpus`: validate the corpus before it is indexed, and print its counts.

Checks front matter (through the loader), PDF sidecars, unique ids, sources, the law texts of
SOVEI_LAW_DIRS and their mapping, that every law reference ("opplæringslova § 12-4") names a section that
exists in the law in force (`lawrefs.py`), and that no webinar or course promises a recording or a
scheduled course without its address (`promises.py`).
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from dataclasses import dataclass, field

from .documents import Document
from .errors import ConfigError, DocumentError
from .laws import LawMapping, law_name, load_laws, load_mapping
from .lawrefs import REPEALED, LawRef, references
from .load import load_corpus
from .promises import promise_problems
from .settings import Settings
from .themes import find_themes_file, load_themes

@dataclass
class LawIndex:
    """The laws the references are checked against: each spelling → the law's name, each name → its sections."""

    names: dict[str, str] = field(default_factory=dict)
    sections: dict[str, set[str]] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    """name → the law file, for messages."""


def law_index(laws, mapping: LawMapping) -> LawIndex:
    """From the law texts read (`laws.LawText`) and the mapping's names and aliases."""
    out = LawIndex()
    for law in laws:
        entry = mapping.entry(law.refid)
        name = law_name(law, entry)
        for spelling in (name, law.short_title, *(entry.aliases if entry else ())):
            out.names.setdefault(spelling.lower(), name)
        out.sections[name] = {s.key for s in law.sections}
        out.files[name] = law.path
    return out


def default_law_index(settings: Settings | None = None) -> LawIndex:
    """The laws of SOVEI_LAW_DIRS (default: ../shared/corpus-public/laws) with the corpus's mapping."""
    settings = settings or Settings.from_env()
    themes = load_themes(find_themes_file(settings.corpus_dirs))
    mapping = load_mapping(settings.corpus_dirs, {t.id for t in themes})
    return law_index(load_laws(settings.law_dirs, mapping).laws, mapping)


def law_references(text: str, index: LawIndex | None = None) -> list[LawRef]:
    return references(text, (index or default_law_index()).names)


def check_law_refs(docs: list[Document], index: LawIndex | None = None) -> list[str]:
    """Every «<law> § <section>» in the bank's own documents names a section that exists in the law in force."""
    index = index or default_law_index()
    problems = []
    for doc in docs:
        if doc.content_type == "lov":
            continue
        text = doc.body or "\n".join(doc.pages)
        if REPEALED.search(text):
            problems.append(f"{doc.path}: body cites '§ 9 A-…' of the repealed 1998 Education Act; "
                            "use opplæringslova (LOV-2023-06-09-30) kapittel 12")
        for ref in references(REPEALED.sub("", text), index.names):
            if ref.section not in index.sections.get(ref.law, set()):
                problems.append(f"{doc.path}: body cites '{ref.text}', but {ref.law} has no § {ref.section} "
                                f"(checked {index.files.get(ref.law, 'the law text')})")
    return problems


LOVDATA_SECTION = re.compile(r"https://lovdata\.no/(lov/\d{4}-\d{2}-\d{2}(?:-\d+)?)/§([0-9A-Za-z-]+)")


def check_law_links(docs: list[Document], laws) -> list[str]:
    """Every Lovdata deep link in a document's sources or source_url (`https://lovdata.no/lov/…/§12-4`) names a
    section of a law read (links to laws not in SOVEI_LAW_DIRS are not checked)."""
    sections = {law.refid: {s.key for s in law.sections} for law in laws}
    problems = []
    for doc in docs:
        for where, url in [("source_url", doc.source_url)] + [(f"sources[{i}].url", x.url)
                                                               for i, x in enumerate(doc.sources)]:
            m = LOVDATA_SECTION.fullmatch(url)
            if m and m.group(1) in sections and m.group(2) not in sections[m.group(1)]:
                problems.append(f"{doc.path}: field '{where}': {url} links to § {m.group(2)}, which {m.group(1)} "
                                "does not have")
    return problems


def counts(docs: list[Document]) -> dict[str, Counter]:
    return {
        "primary theme": Counter(d.primary_theme for d in docs),
        "any theme": Counter(t for d in docs for t in d.themes),
        "content type": Counter(d.content_type for d in docs),
        "audience": Counter(a for d in docs for a in d.audience),
        "language": Counter(d.language for d in docs),
        "kind": Counter(d.kind for d in docs),
    }


def main() -> int:
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"Invalid setting: {exc}", file=sys.stderr)
        return 3
    themes = load_themes(find_themes_file(settings.corpus_dirs))
    theme_ids = {t.id for t in themes}
    loaded = load_corpus(settings.corpus_dirs, theme_ids, settings.pdf_timeout_s, law_dirs=settings.law_dirs)
    problems = [str(p) for p in loaded.problems]
    for skipped in loaded.not_in_force:
        print(f"note: {skipped}; left out", file=sys.stderr)
    if loaded.laws:
        try:
            problems += check_law_refs(loaded.documents, law_index(loaded.laws, load_mapping(settings.corpus_dirs,
                                                                                               theme_ids)))
            problems += check_law_links(loaded.documents, loaded.laws)
        except DocumentError as exc:
            problems.append(str(exc))
    else:
        print("note: no law texts (SOVEI_LAW_DIRS is empty or missing); law references not checked", file=sys.stderr)
    for doc in loaded.documents:
        problems += promise_problems(doc)
    docs = [d for d in loaded.documents if d.content_type != "lov"]
    print(f"{len(docs)} documents")
    for name, c in counts(docs).items():
        print(f"  {name}: " + ", ".join(f"{k} {v}" for k, v in sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))))
    if loaded.laws:
        print(f"laws: {len(loaded.laws)} in force, {len(loaded.documents) - len(docs)} chapters, "
              f"{sum(len(law.sections) for law in loaded.laws)} sections ({', '.join(law.short_title for law in loaded.laws)})")
    if problems:
        print(f"\n{len(problems)} problem(s):", file=sys.stderr)
        for p in problems:
            print(f"  - {p}", file=sys.stderr)
        return 1
    print("corpus OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
