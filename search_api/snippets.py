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


def highlight(text: str, terms: set[str], window: int = 45) -> tuple[str, list[Segment]]:
    words = list(_WORD.finditer(text))
    is_hit = [any(s in terms for s in _stems(m.group(0))) for m in words]
    start_word = 0
    if len(words) > window and any(is_hit):
        best, best_score = 0, -1
        for i in range(0, len(words) - window + 1):
            score = sum(is_hit[i:i + window])
            if score > best_score:
                best, best_score = i, score
        start_word = best
    end_word = min(len(words), start_word + window)
    if not words:
        return text, [Segment(text=text)]
    lo = words[start_word].start() if start_word else 0
    hi = words[end_word - 1].end() if end_word < len(words) else len(text)
    segments: list[Segment] = []
    pos = lo
    for m, h in zip(words[start_word:end_word], is_hit[start_word:end_word]):
        if h:
            if m.start() > pos:
                segments.append(Segment(text=text[pos:m.start()]))
            segments.append(Segment(text=m.group(0), hit=True))
            pos = m.end()
    if hi > pos:
        segments.append(Segment(text=text[pos:hi]))
    if lo > 0:
        segments.insert(0, Segment(text="… "))
    if hi < len(text):
        segments.append(Segment(text=" …"))
    return "".join(s.text for s in segments), segments
