"""Norwegian text analysis for BM25, shared by the indexer and the service.

tantivy keeps custom analyzers in the process, not in the index folder, so every process
that opens an index must call `register(index)` before searching or writing.
"""

from __future__ import annotations

from functools import lru_cache

import tantivy

ANALYZER = "sovei_no_v1"
"""Stored in the manifest; bump the suffix when the analysis changes (old indexes are then refused)."""

# Question and filler words a worried practitioner types around the real content
# ("hva gjør jeg hvis …", "korleis kan eg …"); Snowball's Norwegian list lacks these.
QUESTION_WORDS = [
    "hvordan", "korleis", "kordan", "hva", "kva", "hvorfor", "kvifor", "hvem", "kven", "hvilken",
    "hvilke", "kva", "gjør", "gjer", "gjøre", "gjere", "bør", "burde", "må", "kan", "skal", "vil",
    "jeg", "eg", "meg", "vi", "oss", "noen", "nokon", "noe", "noko", "vert", "blir", "bli",
    "ting", "tips", "råd",
]


def _analyzer(language: str, extra_stopwords: list[str] | None = None) -> tantivy.TextAnalyzer:
    builder = (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
               .filter(tantivy.Filter.remove_long(40))
               .filter(tantivy.Filter.lowercase()))
    if extra_stopwords:
        builder = builder.filter(tantivy.Filter.custom_stopword(extra_stopwords))
    return builder.filter(tantivy.Filter.stopword(language)).filter(tantivy.Filter.stemmer(language)).build()


@lru_cache(maxsize=1)
def analyzer() -> tantivy.TextAnalyzer:
    return _analyzer("norwegian", QUESTION_WORDS)


def register(index: tantivy.Index) -> None:
    index.register_tokenizer(ANALYZER, analyzer())


def terms(text: str) -> list[str]:
    """Analysed terms of a query, deduplicated in order (never passed through a query parser)."""
    return list(dict.fromkeys(analyzer().analyze(text)))


@lru_cache(maxsize=1)
def english_analyzer() -> tantivy.TextAnalyzer:
    return _analyzer("english")


def english_terms(text: str) -> list[str]:
    """English stems, for routing an English question through the thesaurus's English synonyms
    («bullied» and «bullying» both → «bulli»); the index itself is analysed in Norwegian only."""
    return list(dict.fromkeys(english_analyzer().analyze(text)))
