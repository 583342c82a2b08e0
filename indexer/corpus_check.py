"""`make check-corpus`: validate the corpus before it is indexed, and print its counts.

Checks front matter (through the loader), PDF sidecars, unique ids, sources, and that every
law reference ("opplæringslova § 12-4") names a section that exists in the law in force.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from .documents import Document
from .errors import ConfigError
from .load import load_corpus
from .settings import ROOT, Settings
from .themes import find_themes_file, load_themes

LAWS_DIR = ROOT.parent / "shared" / "corpus-public" / "laws"

# Names as they appear in our texts → the law file in force. The 1998 Education Act and the
# 1992 Child Welfare Act are repealed: referring to them is an error, not a lookup.
LAW_FILES = {
    "opplæringslova": "lov-2023-06-09-30-opplaeringslova.md",
    "barnevernsloven": "lov-2021-06-18-97-barnevernsloven.md",
    "helsepersonelloven": "lov-1999-07-02-64-helsepersonelloven.md",
    "forvaltningsloven": "lov-1967-02-10-forvaltningsloven.md",
    "barnelova": "lov-1981-04-08-7-barnelova.md",
    "barneloven": "lov-1981-04-08-7-barnelova.md",
    "pasient- og brukerrettighetsloven": "lov-1999-07-02-63-pasient-og-brukerrettighetsloven.md",
    "psykisk helsevernloven": "lov-1999-07-02-62-psykisk-helsevernloven.md",
    "privatskolelova": "lov-2003-07-04-84-privatskolelova.md",
}
ALIASES = {"opplæringsloven": "opplæringslova", "barnevernloven": "barnevernsloven"}
_SECTION = r"\d+(?:-\d+)?(?:\s?(?-i:[a-h])(?![a-zæøåA-ZÆØÅ]))?"
LAW_REF = re.compile(
    r"\b(" + "|".join(re.escape(n) for n in sorted({*LAW_FILES, *ALIASES}, key=len, reverse=True)) + r")"
    r"\s+(§§?)\s*(" + _SECTION + r"(?:\s*(?:,|og|til|–|-)\s*" + _SECTION + r")*)", re.IGNORECASE)
REPEALED = re.compile(r"§\s*9\s?A-\d+")


@dataclass(frozen=True)
class LawRef:
    law: str
    section: str
    text: str


def law_references(text: str) -> list[LawRef]:
    refs = []
    for m in LAW_REF.finditer(text):
        law = m.group(1).lower()
        law = ALIASES.get(law, law)
        for sec in re.findall(_SECTION, m.group(3)):
            refs.append(LawRef(law, normalise_section(sec), m.group(0)))
    return refs


def normalise_section(sec: str) -> str:
    return re.sub(r"\s+", "", sec).lower()


def law_sections(law_file: Path) -> set[str]:
    """Section numbers of a law text, from headings such as '#### § 13-2. Plikt …' or '§ 10 a.'."""
    found = set()
    for line in law_file.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^#+\s*§\s*(\d+(?:-\d+)?(?:\s?[a-z])?)\s*\.", line)
        if m:
            found.add(normalise_section(m.group(1)))
    return found


def check_law_refs(docs: list[Document], laws_dir: Path = LAWS_DIR) -> list[str]:
    problems = []
    cache: dict[str, set[str]] = {}
    for doc in docs:
        text = doc.body or "\n".join(doc.pages)
        if REPEALED.search(text):
            problems.append(f"{doc.path}: body cites '§ 9 A-…' of the repealed 1998 Education Act; "
                            "use opplæringslova (LOV-2023-06-09-30) kapittel 12")
        for ref in law_references(REPEALED.sub("", text)):
            if ref.law not in cache:
                cache[ref.law] = law_sections(laws_dir / LAW_FILES[ref.law])
            if ref.section not in cache[ref.law]:
                problems.append(f"{doc.path}: body cites '{ref.text}', but {ref.law} has no § {ref.section} "
                                f"(checked {LAW_FILES[ref.law]})")
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
    loaded = load_corpus(settings.corpus_dirs, {t.id for t in themes}, settings.pdf_timeout_s)
    problems = [str(p) for p in loaded.problems]
    if LAWS_DIR.is_dir():
        problems += check_law_refs(loaded.documents)
    else:
        print(f"note: law texts not found at {LAWS_DIR}; law references not checked", file=sys.stderr)
    docs = loaded.documents
    print(f"{len(docs)} documents")
    for name, c in counts(docs).items():
        print(f"  {name}: " + ", ".join(f"{k} {v}" for k, v in sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))))
    if problems:
        print(f"\n{len(problems)} problem(s):", file=sys.stderr)
        for p in problems:
            print(f"  - {p}", file=sys.stderr)
        return 1
    print("corpus OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
