"""Word tables derived from an index generation once, when it is opened, so no request rebuilds them.

- thesaurus: the stems of every synonym phrase in themes.yml, with its theme and the theme's own terms;
- thesaurus_en: the same phrases stemmed as English, for routing a question in English;
- acute: the stems of every acute phrase (when to show the safeguarding box);
- vocabulary: surface words of all passages with counts, grouped by first letter for «mente du».
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from indexer.analysis import english_terms
from indexer.analysis import terms as analyse
from indexer.documents import Theme


@dataclass(frozen=True)
class Lexicon:
    thesaurus: tuple[tuple[frozenset, str, tuple[str, ...]], ...] = ()
    acute: tuple[frozenset, ...] = ()
    vocabulary: dict[str, int] = field(default_factory=dict)
    by_initial: dict[str, tuple[str, ...]] = field(default_factory=dict)
    thesaurus_en: tuple[tuple[frozenset, str, tuple[str, ...]], ...] = ()


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def build_lexicon(themes: list[Theme], acute_phrases, passages: list[str]) -> Lexicon:
    thesaurus, thesaurus_en = [], []
    for t in themes:
        own = tuple(analyse(t.label))
        for phrase in (*t.synonyms, t.label):
            stems = frozenset(analyse(phrase))
            if stems:
                thesaurus.append((stems, t.id, own))
            stems = frozenset(english_terms(phrase))
            if stems:
                thesaurus_en.append((stems, t.id, own))
    acute = tuple(s for s in (frozenset(analyse(p)) or frozenset(words(p)) for p in acute_phrases) if s)
    vocabulary: dict[str, int] = {}
    for text in passages:
        for w in re.findall(r"[^\W\d_]+", text.lower()):
            vocabulary[w] = vocabulary.get(w, 0) + 1
    grouped: dict[str, list[str]] = {}
    for w in vocabulary:
        grouped.setdefault(w[:1], []).append(w)
    return Lexicon(tuple(thesaurus), acute, vocabulary, {k: tuple(v) for k, v in grouped.items()}, tuple(thesaurus_en))
