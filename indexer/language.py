"""Passage language, and moving each language's passage vectors to a common centre.

Multilingual embedding models place texts of one language near each other whatever they are
about: an English question lands among the English research summaries, a Norwegian question
never reaches them. Subtracting each language's mean vector (and adding back the mean of all
passages) removes that offset and keeps the topic (Libovický et al. 2020, "On the language
neutrality of pre-trained multilingual representations", Findings of EMNLP). Questions are not
changed. What it did to the suites: evaluations/README.md («How the served defaults were chosen»).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import numpy as np

MIN_ROWS = 20  # a language with fewer passages keeps its vectors: its mean would be mostly topic

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
# English function words that are not also Norwegian words («etter at», «fra hvilken by», «to elever», «for»,
# «is», «be», «as»): a single one of those must not make a short Norwegian question English.
ENGLISH = frozenset("the and of in that it with was are on this or an which not their they "
                    "from have has were been can what how who when".split())
NORWEGIAN = frozenset("og er det som på til med av å en et ikke ikkje jeg eg hva kva hvordan korleis har kan "
                      "skal må om for seg deg den de dei når".split())
NYNORSK_TABLE = Path(__file__).with_name("nynorsk_bokmal.tsv")


@lru_cache(maxsize=1)
def nynorsk_table() -> dict[str, str]:
    """Nynorsk word form -> bokmål form, lower case (identical pairs dropped)."""
    out = {}
    for n, line in enumerate(NYNORSK_TABLE.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 2 or not all(p.strip() for p in parts):
            raise ValueError(f"{NYNORSK_TABLE}:{n}: expected 'nynorsk<TAB>bokmål', got {line!r}")
        nn, nb = parts[0].strip().lower(), parts[1].strip().lower()
        if nn != nb:
            out[nn] = nb
    return out


def bokmal_words(text: str) -> list[str]:
    """Bokmål forms of a text's nynorsk words (empty for bokmål): query planning adds them as BM25 terms,
    because the Norwegian stemmer is written for bokmål («skulen» never meets «skolen»)."""
    table = nynorsk_table()
    return [table[w] for w in _WORD.findall(text.lower()) if w in table]


def passage_language(text: str) -> str:
    """'en', 'nn' or 'nb', from function words, for passages and questions; a text with none is bokmål."""
    words = [w.lower() for w in _WORD.findall(text)]
    en = sum(w in ENGLISH for w in words)
    no = sum(w in NORWEGIAN for w in words)
    if en > no:
        return "en"
    table = nynorsk_table()
    nn = sum(w in table for w in words)
    nb = sum(w in _bokmal_forms() for w in words)
    return "nn" if nn > nb else "nb"


@lru_cache(maxsize=1)
def _bokmal_forms() -> frozenset[str]:
    return frozenset(nynorsk_table().values())


def center_by_language(vectors: np.ndarray, languages: list[str]) -> tuple[np.ndarray, dict]:
    """Each language's mean moved to the mean of all passages; rows re-normalised for inner product.

    Returns the new vectors and a summary for the manifest (rows per language, which were moved)."""
    langs = np.array(languages)
    counts = {lang: int((langs == lang).sum()) for lang in sorted(set(languages))}
    moved = [lang for lang, n in counts.items() if n >= MIN_ROWS]
    summary = {"method": "language-mean", "passages": counts, "centred": moved}
    if len(vectors) == 0 or len(counts) < 2:
        return vectors, summary
    out = vectors.astype(np.float32, copy=True)
    overall = vectors.mean(axis=0)
    for lang in moved:
        rows = langs == lang
        out[rows] -= vectors[rows].mean(axis=0) - overall
    out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-6)
    return out, summary
