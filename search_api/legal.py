"""When the law is the answer: after fusion, a legal question lifts the law's sections into the top of the
results, and a practical question keeps the bank's guides on top with the law after them.

One step, applied to the fused passage list whatever SOVEI_FUSION merged it (`search.rank` calls
`law_first` last), so it works the same on top of every fusion method:

- a question that names a law, a §, or asks what the law says («hva sier loven», «what does the Act
  say», «§ 12-5», «section 13-2 of the Child Welfare Act») is **explicit**: the section it names comes
  first (its passage is the one shown), else the law's best chapters take the first places;
- a question about a duty or a right («meldeplikt», «taushetsplikt», «aktivitetsplikt», «har jeg plikt
  til», «rett til», «legal duty», «entitled to») is a **duty** question: the law's best chapters take the
  places right after the top guide;
- any other question is **practical**: law chapters are moved below the first guides («the law may
  follow»), so a practitioner's «hva gjør jeg …» still opens on the bank's advice.

Only documents move (one passage per document is what the page shows): the moved documents' passages
take the places, and the scores, of the places they move to, so scores still fall with rank and the
answer box's margin keeps its meaning. Nothing moves when the index has no law texts.
The cue words and places are in `LegalPolicy`; `make eval` measures them on the legal and the
practitioner suites (evaluations/README.md, «Law texts and legal questions»).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from indexer.laws import SECTION_HEADING, section_id, section_key
from indexer.lawrefs import references

from .hits import Hit

if TYPE_CHECKING:
    from indexer.documents import Chunk, Document

EXPLICIT = "explicit"
DUTY = "duty"
PRACTICAL = "practical"

_WORD = re.compile(r"[\wæøåÆØÅ§-]+")
_SECTION_REF = re.compile(r"(?:§§?|\bparagraf(?:en)?\b|\bsection\b|\bsec\.)\s*(\d+(?:\s?[A-Z](?![a-zæøå]))?(?:-\d+)?"
                          r"(?:\s?[a-z](?![a-zæøå]))?)", re.I)
_ASKS_THE_LAW = re.compile(
    r"\b(?:hva|kva)\s+(?:sier|seier|står\s+i|står\s+det\s+i)\s+(?:loven|lova|lovverket|lovene|lovane|lov)\b"
    r"|\b(?:loven|lova|lovverket)\s+(?:sier|seier)\b"
    r"|\b(?:ifølge|iflg\.?|etter|i\s+følge)\s+(?:loven|lova|lovverket)\b"
    r"|\bwhat\s+does\s+(?:the\s+)?(?:law|act|statute)\b|\bby\s+law\b|\bunder\s+(?:the\s+)?law\b", re.I)
_DUTY = re.compile(
    r"\b\w*plikt\w*\b|\bpliktig\w*\b"                                   # plikt, meldeplikt, taushetsplikta, pliktig
    r"|\b(?:lov|loven|lova|lover|lovar|lovverk\w*|lovfest\w*|lovpålag\w*|lovleg\w*|lovlig\w*|ulovleg\w*|ulovlig\w*)\b"
    r"|\brett\s+(?:til|på)\b|\brettighet\w*|\brettigheit\w*|\bkrav\s+på\b|\bforbud\w*|\bforbode\w*|\bforbudt\b"
    r"|\bstraff\w*|\bsamtykk\w*|\bklage\w*|\bteieplikt\w*"
    r"|\b(?:legal|legally|law|laws|statute|statutory|duty|duties|obliged|obligation\w*|entitled|rights?\s+to"
    r"|allowed\s+to|confidentiality|consent|mandatory)\b", re.I)


@dataclass(frozen=True)
class LegalPolicy:
    explicit_slots: int = 2
    """An explicit question: this many law chapters (the named law's first) take the first places."""
    duty_first_place: int = 2
    """A duty question: the law's best chapters start at this place (1-based), right after the top guide…"""
    duty_slots: int = 2
    """… and take this many places."""
    practical_from: int = 6
    """A practical question: no law chapter above this place (1-based), as long as there are guides to fill it."""


POLICY = LegalPolicy()


@dataclass(frozen=True)
class Intent:
    kind: str
    """`explicit`, `duty` or `practical`."""
    laws: tuple[str, ...] = ()
    """The refids of the laws the question names, in the order named."""
    sections: tuple[str, ...] = ()
    """The section numbers it names («12-5», «13a»)."""


@dataclass
class LawSections:
    """A generation's law texts, looked up by the search: names → refid, section → passage rows."""

    names: dict[str, str] = field(default_factory=dict)
    """lower-case name, alias or English name → refid."""
    rows: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    """(refid, section key) → the passage rows of that §, in order."""
    row_section: dict[int, str] = field(default_factory=dict)
    """passage row → section key, for law passages."""
    cited_by: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    """(refid, section key) → the bank documents that cite that section («opplæringslova § 12-4»), by title."""
    name_pattern: re.Pattern | None = None

    def __bool__(self) -> bool:
        return bool(self.rows)

    def refs(self, text: str) -> list:
        """The law references of a bank text (`lawrefs.LawRef`, `law` = the refid)."""
        return references(text, self.names)


def build_law_sections(documents: dict[str, "Document"], chunks: list["Chunk"]) -> LawSections:
    out = LawSections()
    for doc in documents.values():
        if doc.law:
            for name in (doc.law.name, *doc.law.aliases):
                out.names.setdefault(name.lower(), doc.law.refid)
    for row, chunk in enumerate(chunks):
        law = documents[chunk.doc_id].law
        key = section_of(chunk)
        if law and key:
            out.rows.setdefault((law.refid, key), []).append(row)
            out.row_section[row] = key
    if out.names:
        names = sorted(out.names, key=len, reverse=True)
        out.name_pattern = re.compile(r"(?<![\w])(" + "|".join(re.escape(n) for n in names) + r")(?![\w])", re.I)
        for doc in sorted(documents.values(), key=lambda d: d.title):
            if doc.law is None:
                for ref in out.refs(doc.body or "\n".join(doc.pages)):
                    citing = out.cited_by.setdefault((ref.law, ref.section), [])
                    if (ref.law, ref.section) in out.rows and doc.id not in citing:
                        citing.append(doc.id)
        out.cited_by = {k: v for k, v in out.cited_by.items() if v}
    return out


def section_of(chunk: "Chunk") -> str | None:
    """The section key of a law passage («12-4»), from its heading («§ 12-4. Plikt til …»)."""
    if not chunk.heading_path:
        return None
    m = SECTION_HEADING.match(chunk.heading_path[0])
    return section_key(m.group(1)) if m else None


def cited_as(doc: "Document", chunk: "Chunk") -> str:
    """How the bank cites a law passage: «opplæringslova § 12-4 Plikt til å sikre …» (the document's title
    for a passage outside any §)."""
    m = SECTION_HEADING.match(chunk.heading_path[0]) if chunk.heading_path else None
    if not (doc.law and m):
        return doc.title
    return " ".join(x for x in (doc.law.name, "§", m.group(1), m.group(2)) if x)


def hit_section_id(snap, hit: Hit) -> str | None:
    """`lov/2023-06-09-30/§12-4` for a law passage, None for any other."""
    law = snap.documents[hit.doc_id].law
    key = snap.laws.row_section.get(hit.chunk_id)
    return section_id(law.refid, key) if law and key else None


def intent(laws: LawSections, question: str) -> Intent:
    """What the question asks of the law, if anything."""
    named = []
    if laws.name_pattern is not None:
        for m in laws.name_pattern.finditer(question):
            refid = laws.names[m.group(1).lower()]
            if refid not in named:
                named.append(refid)
    sections = tuple(dict.fromkeys(section_key(m.group(1)) for m in _SECTION_REF.finditer(question)))
    if named or sections or _ASKS_THE_LAW.search(question):
        return Intent(EXPLICIT, tuple(named), sections)
    if _DUTY.search(question):
        return Intent(DUTY)
    return Intent(PRACTICAL)


def law_first(snap, question: str, fused: list[Hit], policy: LegalPolicy = POLICY) -> list[Hit]:
    """The fused passages with law chapters placed as the question's intent asks (module docstring)."""
    laws: LawSections = snap.laws
    if not laws or not fused:
        return fused
    want = intent(laws, question)
    heads: dict[str, Hit] = {}
    for h in fused:
        heads.setdefault(h.doc_id, h)
    pinned = _named_passages(snap, want, fused) if want.kind == EXPLICIT else []
    for h in pinned:
        heads[h.doc_id] = h  # the named § is the passage its chapter shows
    is_law = {d: snap.documents[d].content_type == "lov" for d in heads}
    order = list(heads)
    pinned_docs = [h.doc_id for h in pinned]
    law_docs = [d for d in order if is_law[d] and d not in pinned_docs]
    guides = [d for d in order if not is_law[d]]
    if want.kind == EXPLICIT:
        named = [d for d in law_docs if snap.documents[d].law.refid in want.laws]
        ahead = (pinned_docs + named + [d for d in law_docs if d not in named])[:max(policy.explicit_slots,
                                                                                      len(pinned_docs))]
        new = ahead + [d for d in order if d not in ahead]
    elif want.kind == DUTY:
        lift = law_docs[:policy.duty_slots]
        rest = [d for d in order if d not in lift]
        at = min(policy.duty_first_place - 1, len(guides))
        new = rest[:at] + lift + rest[at:]
    else:
        top = guides[:policy.practical_from - 1]
        new = top + [d for d in order if d not in top]
    if new == order and not pinned:
        return fused
    return _reorder(fused, heads, order, new)


def _named_passages(snap, want: Intent, fused: list[Hit]) -> list[Hit]:
    """The first passage of each § the question names: of the named law, else of any law that has it
    (the one the fusion ranked highest first); a passage not among the candidates is added."""
    laws: LawSections = snap.laws
    out = []
    rank = {h.chunk_id: i for i, h in enumerate(fused)}
    by_chunk = {h.chunk_id: h for h in fused}
    for key in want.sections:
        refids = list(want.laws) or sorted({r for r, k in laws.rows if k == key},
                                           key=lambda r: min(rank.get(x, len(fused)) for x in laws.rows[(r, key)]))
        for refid in refids[:1]:
            rows = laws.rows.get((refid, key))
            if rows:
                first = rows[0]
                out.append(by_chunk.get(first) or Hit(chunk_id=first, doc_id=snap.chunks[first].doc_id))
    return out


def _reorder(fused: list[Hit], heads: dict[str, Hit], order: list[str], new: list[str]) -> list[Hit]:
    """Each document's shown passage in the new order, taking the score of the place it lands on; then the
    other passages as fusion ranked them (they only count through their document's first passage)."""
    scores = sorted((heads[d].score for d in order), reverse=True)
    # a pinned passage may come from outside the candidates (score 0): it takes a place's score too
    shown = []
    for d, score in zip(new, scores):
        h = heads[d]
        h.score = score
        shown.append(h)
    ids = {h.chunk_id for h in shown}
    return shown + [h for h in fused if h.chunk_id not in ids]
