"""Passage language, and moving each language's passage vectors to a common centre.

Multilingual embedding models place texts of one language near each other whatever they are
about: an English question lands among the English research summaries, a Norwegian question
never reaches them. Subtracting each language's mean vector (and adding back the mean of all
passages) removes that offset and keeps the topic (Libovický et al. 2020, "On the language
neutrality of pre-trained multilingual representations", Findings of EMNLP). Centring does not
change questions (an English one is embedded with its bokmål translation: `dense_query`). What it did
to the suites: evaluations/README.md («How the served defaults were chosen»).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import numpy as np

from .analysis import english_terms

MIN_ROWS = 20  # a language with fewer passages keeps its vectors: its mean would be mostly topic

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
# English function words that are not also Norwegian words («etter at», «fra hvilken by», «to elever», «for»,
# «is», «be», «as»): a single one of those must not make a short Norwegian question English.
ENGLISH = frozenset("the and of in that it with was are on this or an which not their they "
                    "from have has were been can what how who when".split())
NORWEGIAN = frozenset("og er det som på til med av å en et ikke ikkje jeg eg hva kva hvordan korleis har kan "
                      "skal må om for seg deg den de dei når".split())
NYNORSK_TABLE = Path(__file__).with_name("nynorsk_bokmal.tsv")
ENGLISH_TABLE = Path(__file__).with_name("english_bokmal.tsv")
ABBREVIATIONS = Path(__file__).with_name("abbreviations.tsv")
# Question and filler words of an English question, which the table does not translate and which say
# nothing about its subject; they do not count against its share translated («what should I do if …»).
ENGLISH_FILLER = ("what how who whom whose when where why which do does did doing done i me my mine myself we us "
                  "our you your he him his himself she her hers herself it its itself they them themselves "
                  "can could should would may might shall have has had having say says said tell know think "
                  "get gets got go going want anything something someone somebody one ones any some all "
                  "about so very just also too there here now").split()


@lru_cache(maxsize=1)
def nynorsk_table() -> dict[str, str]:
    """Nynorsk word form -> bokmål form, lower case (identical pairs dropped)."""
    out = {}
    for _, nn, nb in _pairs(NYNORSK_TABLE, "nynorsk<TAB>bokmål"):
        if nn.lower() != nb.lower():
            out[nn.lower()] = nb.lower()
    return out


def _pairs(path: Path, shape: str):
    """(line number, left, right) of a tab-separated word table; comments and blank lines skipped."""
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 2 or not all(p.strip() for p in parts):
            raise ValueError(f"{path}:{n}: expected '{shape}', got {line!r}")
        yield n, parts[0].strip(), parts[1].strip()


def bokmal_words(text: str) -> list[str]:
    """Bokmål forms of a text's nynorsk words (empty for bokmål): query planning adds them as BM25 terms,
    because the Norwegian stemmer is written for bokmål («skulen» never meets «skolen»)."""
    table = nynorsk_table()
    return [table[w] for w in _WORD.findall(text.lower()) if w in table]


@lru_cache(maxsize=1)
def abbreviation_table() -> dict[str, tuple[str, ...]]:
    """Abbreviation (lower case) -> the specific words of its full form."""
    out, line = {}, {}
    for n, short, words in _pairs(ABBREVIATIONS, "abbreviation<TAB>words"):
        if short.lower() in out:
            raise ValueError(f"{ABBREVIATIONS}:{n}: {short!r} is listed already on line {line[short.lower()]}; "
                             "keep one line per abbreviation")
        out[short.lower()], line[short.lower()] = tuple(words.lower().split()), n
    return out


def full_form_words(text: str) -> list[str]:
    """The full forms' words of a text's abbreviations («rett til SFO» → skolefritidsordning …): query planning
    adds them as BM25 terms, since the law texts write the names out."""
    table = abbreviation_table()
    return [w for short in _WORD.findall(text.lower()) if short in table for w in table[short]]


@lru_cache(maxsize=1)
def english_table() -> tuple[tuple[frozenset[str], tuple[str, ...]], ...]:
    """(English stems of a word or phrase, its bokmål search words), in the file's order."""
    out, seen = [], set()
    for n, english, bokmal in _pairs(ENGLISH_TABLE, "english<TAB>bokmål words"):
        stems = frozenset(english_terms(english))
        if not stems:
            raise ValueError(f"{ENGLISH_TABLE}:{n}: {english!r} has no English word that is not a stop word")
        if stems in seen:
            raise ValueError(f"{ENGLISH_TABLE}:{n}: {english!r} is listed twice (as English stems)")
        seen.add(stems)
        out.append((stems, tuple(bokmal.lower().split())))
    return tuple(out)


def translated_words(text: str) -> tuple[list[str], float]:
    """Bokmål search words for a question in English, and the share of its English stems the table covers.

    BM25 searches the bank's Norwegian text: an English question's own words match only the English research
    summaries, so query planning searches these instead (a phrase counts when all its stems are in the
    question: «child welfare» → barnevern, «county governor» → statsforvalteren)."""
    question = set(english_terms(text))
    found, covered = [], set()
    for stems, bokmal in english_table():
        if stems <= question:
            found.extend(bokmal)
            covered |= stems
    content = question - _english_filler()
    return list(dict.fromkeys(found)), (len(covered & content) / len(content) if content else 0.0)


def dense_query(text: str) -> str:
    """The text the vectors embed for a question: an English one with its bokmål translation after it in
    parentheses, which moves the question toward the Norwegian passages on its subject (the learned fusion's
    cross-validation, English questions: the vectors' reciprocal rank 0.622 → 0.678; evaluations/README.md,
    «Session 10»); any other question as typed."""
    if passage_language(text) != "en":
        return text
    words, _ = translated_words(text)
    return f"{text} ({' '.join(words)})" if words else text


@lru_cache(maxsize=1)
def _english_filler() -> frozenset[str]:
    return frozenset(english_terms(" ".join(ENGLISH_FILLER)))


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


def center_by_language(vectors: np.ndarray, languages: list[str], reference: np.ndarray | None = None
                       ) -> tuple[np.ndarray, dict]:
    """Each language's mean moved to the mean of all passages; rows re-normalised for inner product.

    `reference` (a boolean mask over the rows) says which passages estimate the means: the bank's own writing,
    not the law texts. The laws are one genre in two languages, and most of the nynorsk passages
    (opplæringslova and barnelova), so their rows would make the nynorsk mean a legal-register mean and move the
    nynorsk guides by genre rather than language (evaluations/README.md, «Session 13»).
    Every row of a language gets its language's shift, the laws' included. Without reference rows (a
    collection of law texts only) every row estimates.

    Returns the new vectors and a summary for the manifest (rows per language, which were moved, how many
    rows estimated the means)."""
    langs = np.array(languages)
    ref = np.ones(len(langs), dtype=bool) if reference is None or not np.any(reference) else np.asarray(reference)
    counts = {lang: int((langs == lang).sum()) for lang in sorted(set(languages))}
    estimated = {lang: int(((langs == lang) & ref).sum()) for lang in counts}
    moved = [lang for lang, n in estimated.items() if n >= MIN_ROWS]
    summary = {"method": "language-mean", "passages": counts, "centred": moved}
    if int(ref.sum()) < len(langs):
        summary["estimated_from"] = estimated
    if len(vectors) == 0 or len(counts) < 2:
        return vectors, summary
    out = vectors.astype(np.float32, copy=True)
    overall = vectors[ref].mean(axis=0)
    for lang in moved:
        rows = langs == lang
        out[rows] -= vectors[rows & ref].mean(axis=0) - overall
    out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-6)
    return out, summary
