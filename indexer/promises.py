"""A course or webinar document may promise only what exists: a recording or a scheduled course is named
together with the address where it is (`make check-corpus`).

The bank describes webinars as plans the school can run itself, or as planned; it once said «tilbys som
opptak» where no recording existed. So in a document of type `webinar` or `kursmodul`, a sentence (or an
editors' question, or the title) that speaks of a recording («opptak», «innspilt», «recording») or of a
course one signs up for («påmelding», «meld deg på», a date and time) must give a URL in the same
paragraph; a sentence that says there is none («det finst ikkje noko opptak») is not a promise.
"""

from __future__ import annotations

import re

from .documents import Document

CHECKED_TYPES = ("webinar", "kursmodul")
RECORDING = re.compile(r"\b(?:opptak\w*|videoopptak\w*|\w*innspilt\w*|innspelt\w*|recording\w*|recorded|"
                       r"on[- ]demand|strømm\w*|streamed|streaming)\b", re.I)
SCHEDULED = re.compile(
    r"\b(?:påmelding\w*|meld\s+(?:deg|dykk|dere|dokker)\s+på|sign\s+up|registration|register\s+(?:now|here)|"
    r"kursdato\w*|neste\s+kurs|holdes\s+(?:den\s+)?\d|arrangeres\s+(?:den\s+)?\d|sendes\s+direkte|live\s+on)\b"
    r"|\b\d{1,2}\.\s*(?:januar|februar|mars|april|mai|juni|juli|august|september|oktober|november|desember)"
    r"(?:\s+\d{4})?\s+(?:kl\.?|klokka|klokken)\s*\d", re.I)
NEGATION = re.compile(r"\b(?:ikke|ikkje|ingen|inga|intet|not|no|without|uten|utan)\b", re.I)
URL = re.compile(r"https?://\S+")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def promise_problems(doc: Document) -> list[str]:
    """What a course or webinar document promises without saying where it is (empty for other types)."""
    if doc.content_type not in CHECKED_TYPES:
        return []
    places = [("title", doc.title)] + [(f"questions[{i}]", q) for i, q in enumerate(doc.questions)]
    places += [("body", p) for p in re.split(r"\n\s*\n", doc.body or "\n\n".join(doc.pages))]
    problems = []
    for where, paragraph in places:
        if URL.search(paragraph):
            continue
        for sentence in _SENTENCE.split(paragraph):
            for kind, pattern in (("a recording", RECORDING), ("a scheduled course", SCHEDULED)):
                m = pattern.search(sentence)
                if m and not NEGATION.search(sentence[:m.start()]):
                    problems.append(f"{doc.path}: field '{where}' claims {kind} («{m.group(0)}» in "
                                    f"«{_short(sentence)}») but gives no URL for it; describe what exists "
                                    "(a plan the school can run, or a planned webinar), or add the address")
    return problems


def _short(text: str, n: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[:n - 1] + "…"
