"""Law references in the bank's own texts («opplæringslova § 12-4», «forvaltningsloven §§ 13 og 13 b»).

One grammar for three readers: `make check-corpus` checks every reference against the law text, the
document pages link each one to its section in the bank, and a law section's page lists the guides that
cite it. The law names come from `corpus/mappings/lovdata.yml` (a name and its aliases per law).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

SECTION = r"\d+(?:\s?(?-i:[A-Z])(?![a-zæøåA-ZÆØÅ]))?(?:-\d+)?(?:\s?(?-i:[a-h])(?![a-zæøåA-ZÆØÅ]))?"
_SECTION = re.compile(SECTION)
REPEALED = re.compile(r"§\s*9\s?A-\d+")
"""«§ 9 A-4»: a section of the repealed 1998 Education Act (its chapter 9 A became opplæringslova kapittel 12)."""


@dataclass(frozen=True)
class LawRef:
    law: str
    """The name as the mapping writes it («opplæringslova»), aliases resolved."""
    section: str
    """The section key («12-4», «13b»)."""
    text: str
    """The whole reference as written."""
    start: int = 0
    end: int = 0
    """Where this section's number stands in the text (the first also covers the law name and «§»)."""


@lru_cache(maxsize=8)
def pattern(names: tuple[str, ...]) -> re.Pattern:
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(r"(?<![\w])(" + alternatives + r")\s+(§§?)\s*(" + SECTION
                      + r"(?:\s*(?:,|og|til|–|-)\s*" + SECTION + r")*)", re.IGNORECASE)


def section_key(number: str) -> str:
    return re.sub(r"\s+", "", number)


def references(text: str, names: dict[str, str]) -> list[LawRef]:
    """Every (law, section) a text cites; `names` maps each spelling (lower case) to the law's name."""
    if not names:
        return []
    out = []
    for m in pattern(tuple(names)).finditer(text):
        law = names[m.group(1).lower()]
        for i, s in enumerate(_SECTION.finditer(m.group(3))):
            start = m.start() if i == 0 else m.start(3) + s.start()
            out.append(LawRef(law, section_key(s.group(0)), m.group(0), start, m.start(3) + s.end()))
    return out


def link_parts(text: str, names: dict[str, str], href) -> list[tuple[str, str | None]]:
    """The text cut into (text, link) parts: each cited section whose `href(law, section)` is not None
    becomes a link; everything else stays plain text."""
    parts: list[tuple[str, str | None]] = []
    pos = 0
    for ref in references(text, names):
        url = href(ref.law, ref.section)
        if url is None or ref.start < pos:
            continue
        if ref.start > pos:
            parts.append((text[pos:ref.start], None))
        parts.append((text[ref.start:ref.end], url))
        pos = ref.end
    if pos < len(text):
        parts.append((text[pos:], None))
    return parts
