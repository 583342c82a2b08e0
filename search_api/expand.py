"""From a practitioner's words to BM25 terms: stems, compounds by prefix, typos, and the thesaurus.

The thesaurus is `synonyms` in corpus/themes.yml (copied into the index): an everyday phrase such as
"kutter seg" routes the question to its theme and adds the theme's own terms ("selvskading").
"""

from __future__ import annotations

import math

from dataclasses import dataclass, field
from indexer.analysis import english_terms
from indexer.analysis import terms as analyse
from indexer.language import bokmal_words, full_form_words, passage_language, translated_words

from .index_store import Snapshot
from .lexicon import words
from .spelling import corrected, speller

PREFIX_MIN = 4          # shorter stems expand to too much
PREFIX_LIMIT = 8        # most frequent completions kept per term
PREFIX_WEIGHT = 0.35    # a compound or inflection is weaker evidence than the word itself
FUZZY_WEIGHT = 0.7
THEME_TERM_WEIGHT = 0.5
NYNORSK_WEIGHT = 0.8    # the bokmål form of a nynorsk word: the same word, other spelling
ABBREVIATION_WEIGHT = 0.8  # the written-out name of an abbreviation: the same thing, other spelling (as nynorsk)


@dataclass(frozen=True)
class Term:
    text: str
    weight: float = 1.0
    kind: str = "exact"   # exact | prefix | fuzzy | nynorsk | abbreviation | theme


@dataclass
class QueryPlan:
    terms: list[Term] = field(default_factory=list)
    themes: list[str] = field(default_factory=list)
    """Themes the thesaurus routes the question to, strongest first."""
    known: float = 1.0
    """Share of the question's terms that occur in the bank at all (misspelt words do not); for a question in
    English, times the share of its words the English table translated (0 when it translated none)."""
    stems: frozenset = frozenset()
    """The question's stems, with the bokmål forms of its nynorsk words (of an English question: its own words,
    not the translation's)."""
    language: str = "nb"
    """'en', 'nn' or 'nb' (indexer/language.passage_language)."""
    idf_mass: float = 0.0
    """Σ idf of the question's distinct terms that the bank knows: about the BM25 score of an average-length
    passage holding each of them once, so BM25's top score over it says how much of the question its best
    passage matches (a feature of the learned fusion)."""
    rarest_share: float | None = None
    """The share of the bank's passages that hold the question's rarest term (0 when the bank lacks one of its
    words, a typo or a compound; None for a question without terms): near 0.4 for a question of only «skole»,
    «barn» or «elev» (the answer box's `is_vague`)."""

    @property
    def exact(self) -> list[str]:
        return [t.text for t in self.terms if t.kind == "exact"]


def plan(snap: Snapshot, text: str, expand: bool = True, translate: bool = True) -> QueryPlan:
    """`translate=False` plans an English question from its own words, as before the English table (the served
    adapter's hard negatives were mined so: training/examples.candidates)."""
    language = passage_language(text)
    coverage = 0.0 if language == "en" else 1.0  # the share of an English question translated, below
    if language == "en" and translate:
        # The bank's English words are the research summaries': BM25 searches the question's bokmål
        # translation instead (indexer/english_bokmal.tsv), and counts for as much of it as was translated.
        translated, coverage = translated_words(text)
        base, bokmal = analyse(" ".join(translated)), []
    else:
        base, bokmal = analyse(text), analyse(" ".join(bokmal_words(text)))
    # an English question's stems stay its own words: the acute check must not read the table's wider senses
    # into it («substance abuse» → rusmisbruk, but «abuse» alone → overgrep)
    stems = frozenset(analyse(text)) if language == "en" else frozenset(base) | frozenset(bokmal)
    p = QueryPlan(terms=[Term(t) for t in base], stems=stems, language=language, known=coverage)
    searcher = snap.searcher
    df = {t: searcher.doc_freq("text", t) for t in base}
    n_docs = searcher.num_docs
    p.idf_mass = sum(math.log(1 + (n_docs - n + 0.5) / (n + 0.5)) for n in df.values() if n > 0)
    p.rarest_share = min(df.values()) / n_docs if df and n_docs else None
    if not expand:
        return p
    have = set(base)
    if base:
        p.known = coverage * sum(n > 0 for n in df.values()) / len(base)
    for t in base:
        if df[t] == 0 and len(t) >= 4:
            # not in the bank's vocabulary: probably a typo; let the index find near spellings
            p.terms.append(Term(t, FUZZY_WEIGHT, "fuzzy"))
            continue
        if len(t) >= PREFIX_MIN:
            for completion, _df in searcher.terms_with_prefix("text", t, limit=PREFIX_LIMIT + 1):
                if completion not in have:
                    have.add(completion)
                    p.terms.append(Term(completion, PREFIX_WEIGHT, "prefix"))
    for t in bokmal:
        if t not in have:
            have.add(t)
            p.terms.append(Term(t, NYNORSK_WEIGHT, "nynorsk"))
    spelt_out = full_form_words(text)  # an English question's «IOP» too: BM25 searches bokmål
    for t in analyse(" ".join(spelt_out)) if spelt_out else ():
        if t not in have:
            have.add(t)
            p.terms.append(Term(t, ABBREVIATION_WEIGHT, "abbreviation"))
    scores: dict[str, int] = {}
    english = p.language == "en" and snap.lexicon.thesaurus_en
    question = frozenset(english_terms(text)) if english else p.stems
    for stems, theme_id, own in (snap.lexicon.thesaurus_en if english else snap.lexicon.thesaurus):
        if stems <= question:
            scores[theme_id] = max(scores.get(theme_id, 0), len(stems))
            for t in own:
                if t not in have:
                    have.add(t)
                    p.terms.append(Term(t, THEME_TERM_WEIGHT, "theme"))
    p.themes = sorted(scores, key=lambda k: -scores[k])
    return p


def is_acute(snap: Snapshot, text: str, qp: QueryPlan) -> bool:
    """True when every word of one acute phrase (themes.yml `acute`) occurs in the question, stemmed."""
    qset = qp.stems | set(words(text))
    return any(stems <= qset for stems in snap.lexicon.acute)


def suggest(snap: Snapshot, text: str, qp: QueryPlan) -> str | None:
    """«Mente du …»: the question with its misspelt words replaced by the bank's words (search_api/spelling.py)."""
    if qp.language == "en":
        return None
    lex = snap.lexicon
    return corrected(text, lex.vocabulary, lex.by_initial, speller().known)
