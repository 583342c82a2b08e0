"""Nynorsk questions, a mostly bokmål bank: see the bokmål form of each nynorsk word too.

The Norwegian stemmer is written for bokmål, so «skulen», «ikkje» or «føresette» never meet
«skolen», «ikke» or «foresatte» in the index. The table (data/nynorsk_bokmal.tsv) gives the bokmål
form of common nynorsk words; query planning adds their stems as extra BM25 terms and lets the
thesaurus and the acute phrases match them. The question itself is never rewritten.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

TABLE = Path(__file__).parent / "data" / "nynorsk_bokmal.tsv"
_WORD = re.compile(r"\w+", re.UNICODE)


@lru_cache(maxsize=1)
def table() -> dict[str, str]:
    out = {}
    for n, line in enumerate(TABLE.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 2 or not all(p.strip() for p in parts):
            raise ValueError(f"{TABLE}:{n}: expected 'nynorsk<TAB>bokmål', got {line!r}")
        nn, nb = parts[0].strip().lower(), parts[1].strip().lower()
        if nn != nb:
            out[nn] = nb
    return out


def bokmal_words(text: str) -> list[str]:
    """Bokmål forms of the question's nynorsk words (empty for a bokmål question)."""
    t = table()
    return [t[w] for w in _WORD.findall(text.lower()) if w in t]
