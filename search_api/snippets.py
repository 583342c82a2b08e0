"""Highlighted snippets: the best window of a passage, with query-term matches marked.

Matching is done on analysed (stemmed) words, so "mobbet" in a passage lights up for a
query about "mobbing". Output is a list of segments, never HTML: templates escape it.
"""

from __future__ import annotations

import re
from functools import lru_cache

from indexer.analysis import analyzer

from .hits import Segment

_WORD = re.compile(r"\w+", re.UNICODE)


@lru_cache(maxsize=50_000)
def _stems(word: str) -> tuple[str, ...]:
    return tuple(analyzer().analyze(word))


def matched_terms(text: str, terms: set[str]) -> list[str]:
    found: dict[str, None] = {}
    for m in _WORD.finditer(text):
        for s in _stems(m.group(0)):
            if s in terms:
                found.setdefault(s, None)
    return list(found)


@lru_cache(maxsize=8192)
def _words(text: str) -> tuple[tuple[tuple[int, int], ...], tuple[frozenset, ...]]:
    """Word spans and their stems, once per passage text (passages repeat across questions)."""
    spans, stems = [], []
    for m in _WORD.finditer(text):
        spans.append(m.span())
        stems.append(frozenset(_stems(m.group(0))))
    return tuple(spans), tuple(stems)


def highlight(text: str, terms: set[str], window: int = 45) -> tuple[str, list[Segment]]:
    spans, stems = _words(text)
    if not spans:
        return text, [Segment(text=text)]
    is_hit = [not s.isdisjoint(terms) for s in stems]
    start_word = 0
    if len(spans) > window and any(is_hit):
        score = best_score = sum(is_hit[:window])
        for i in range(1, len(spans) - window + 1):  # the window slides one word: running sum
            score += is_hit[i + window - 1] - is_hit[i - 1]
            if score > best_score:
                start_word, best_score = i, score
    end_word = min(len(spans), start_word + window)
    lo = spans[start_word][0] if start_word else 0
    hi = spans[end_word - 1][1] if end_word < len(spans) else len(text)
    segments: list[Segment] = []
    pos = lo
    for (a, b), h in zip(spans[start_word:end_word], is_hit[start_word:end_word]):
        if h:
            if a > pos:
                segments.append(Segment(text=text[pos:a]))
            segments.append(Segment(text=text[a:b], hit=True))
            pos = b
    if hi > pos:
        segments.append(Segment(text=text[pos:hi]))
    if lo > 0:
        segments.insert(0, Segment(text="… "))
    if hi < len(text):
        segments.append(Segment(text=" …"))
    return "".join(s.text for s in segments), segments
