"""When the law is the answer: the law texts are a second pool of passages, retrieved and fused apart from the
bank's own writing (`search.rank`), and placed in the results by what the question asks of the law.

- a question that names a law, a §, or asks what the law says («hva sier loven», «what does the Act
  say», «§ 12-5», «section 13-2 of the Child Welfare Act») is **explicit**: the section it names comes
  first, then the best law sections (`explicit_slots`), then the guides;
- a question about a duty or a right («meldeplikt», «taushetsplikt», «har jeg plikt til», «rett til»,
  «samtykke», «statsforvalteren», «legal duty», «must») is a **duty** question: the top guide keeps the first
  place and the two best law sections take the next two (`duty_slots`);
- any other question is **practical**: the guides keep the first ten places and the law follows, unless both
  retrievers put the same section first in the law pool: that section then takes place 3 (`agreed_law_place`).

The best law sections are the law pool's fused order, plus the sections the top guides cite: a guide
passage that answers the question and says «opplæringslova § 12-5» is a vote for § 12-5 (`cite_weight`,
reciprocal rank of the citing guide). Both are reciprocal-rank scores (`1/(k + rank)`), summed. For a duty
question, a section both retrievers put first in the law pool (`agreed_section`) leads: two rankings that agree
on their own are stronger evidence than the guides' votes.
Only results move (the page shows one passage per result: per document, and for the law per §, its citation
unit, so two sections of one chapter can both answer); a moved-up hit takes at most the
score of the hit above it, so scores still fall with rank and a practical question's guides keep theirs (the
answer box's margin). The cue words and places are in `LegalPolicy`; `make eval` measures them
on the legal and the practitioner suites (evaluations/README.md, «Law texts and legal questions»).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from indexer.documents import CONTENT_TYPES
from indexer.laws import SECTION_HEADING, section_id, section_key
from indexer.lawrefs import references

from .hits import Hit, best_per_result

if TYPE_CHECKING:
    from indexer.documents import Chunk, Document

LAW_TYPE = "lov"
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
    r"|\bstraff\w*|\bsamtykk\w*|\bklage\w*|\bteieplikt\w*|\btaushet\w*|\bhjemmel\w*|\bfrist\w*"
    r"|\b\w*vedtak\w*|\bsakkyndig\w*|\bbortvis\w*|\bvis\w*\s+bort\b|\btvang\w*|\bfysisk\w*\s+inngrep\w*"
    r"|\bstatsforvalt\w*|\bfylkesmann\w*|\bombod\w*|\bombud\w*"      # the authorities that enforce school law
    r"|\b(?:legal|legally|law|laws|statute|statutory|duty|duties|obliged|obligation\w*|entitled|rights?|must"
    r"|required|permitted|allowed\s+to|confidentiality|consent|mandatory|county\s+governor|ombudsman)\b", re.I)


@dataclass(frozen=True)
class LegalPolicy:
    explicit_slots: int = 2
    """An explicit question: this many law chapters (a named § and the named law's first) take the first places."""
    duty_slots: int = 2
    """A duty question: the law's best chapters take this many places right after the top guide. Two, not one:
    chosen on the law questions written for training, confirmed on the legal suite, at a small cost to the
    practitioner suite (evaluations/README.md, «Session 8»)."""
    practical_from: int = 11
    """A practical question: no law chapter above this place (1-based), as long as there are guides to fill it."""
    agreed_law_place: int = 3
    """A practical question whose best law section both retrievers agree on (`agreed_section`): that section takes
    this place (1-based); 0 = never. It replaced a rule that compared the best law passage's cosine with the best
    guide's: on the law training questions and the adapter's dev questions, agreement placed the right section
    more often and displaced the guides less often (evaluations/README.md, «Session 18»)."""
    agreed_first: bool = True
    """A duty question: the section both retrievers agree on leads the law's places, before the guides' votes."""
    cite_guides: int = 5
    """How many of the top guides' shown passages vote for the sections they cite."""
    cite_weight: float = 0.5
    """A citing guide's vote against the law pool's own rank (both `1/(k + rank)`)."""
    k: int = 10
    """The reciprocal rank's k here: small, so the law pool's own order still counts against the votes (with
    60, a single vote outweighed the pool's first place; evaluations/README.md)."""


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
    row_unit: dict[int, str] = field(default_factory=dict)
    """passage row → its section's id (`lov/2023-06-09-30/§12-4`), for law passages: what a result is for the
    law (`Hit.unit`)."""

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
            out.row_unit[row] = section_id(law.refid, key)
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


def pools(snap, filters: dict[str, list[str]]) -> tuple[dict, dict] | None:
    """(the bank's writing, the law) as two filter sets, or None when there is only one pool to search."""
    if not snap.laws:
        return None
    asked = filters.get("content_type") or list(CONTENT_TYPES)
    writing = [t for t in asked if t != LAW_TYPE]
    if LAW_TYPE not in asked or not writing:
        return None
    return {**filters, "content_type": writing}, {**filters, "content_type": [LAW_TYPE]}


def place(snap, question: str, guides: list[Hit], laws: list[Hit], policy: LegalPolicy = POLICY) -> list[Hit]:
    """The two pools as one list: law sections placed as the question's intent asks (module docstring). Only the
    pools' candidates are placed (a cited or named § outside them is not added), so the theme chips, which
    count the candidates (facets.py), stay exact."""
    if not laws:
        return guides
    want = intent(snap.laws, question)
    law_heads = best_sections(snap, want, guides, laws, policy)
    guide_heads = best_per_result(guides)
    unit = agreed_section(laws)
    agreed = [h for h in law_heads if h.unit == unit]  # one section (best_sections gives one passage per section)
    if want.kind == EXPLICIT:
        order = law_heads[:max(policy.explicit_slots, len(want.sections))]
    elif want.kind == DUTY:
        if policy.agreed_first:
            law_heads = agreed + [h for h in law_heads if h.unit != unit]
        order = guide_heads[:1] + law_heads[:policy.duty_slots]
    elif policy.agreed_law_place and agreed and guide_heads:
        # a practical question whose law section both retrievers found on their own
        order = guide_heads[:policy.agreed_law_place - 1] + agreed
    else:
        order = []
    shown = {h.unit for h in order}
    fill = [h for h in guide_heads if h.unit not in shown][:max(0, policy.practical_from - 1 - len(order))]
    order += fill  # the guides up to the practical line, then the law and the other guides by score
    shown |= {h.unit for h in fill}
    order += sorted((h for h in law_heads + guide_heads if h.unit not in shown), key=lambda h: -h.score)
    cap = float("inf")
    for h in order:  # scores fall with rank: a moved-up hit takes at most the score of the hit above it
        h.score = cap = min(h.score, cap)
    ids = {h.chunk_id for h in order}
    return order + [h for h in guides + laws if h.chunk_id not in ids]


def best_sections(snap, want: Intent, guides: list[Hit], laws: list[Hit], policy: LegalPolicy) -> list[Hit]:
    """One passage per law section, best first: the sections the question names, the law it names, then by the
    law pool's rank plus the votes of the top guides that cite them."""
    laws_by_row = {h.chunk_id: h for h in laws}
    score: dict[int, float] = {h.chunk_id: 1.0 / (policy.k + r) for r, h in enumerate(laws, start=1)}
    for r, g in enumerate(best_per_result(guides)[:policy.cite_guides], start=1):
        for ref in snap.laws.refs(snap.chunks[g.chunk_id].text):
            rows = snap.laws.rows.get((ref.law, ref.section))
            if rows and rows[0] in score:  # only the law pool's candidates: the chips count those (facets.py)
                score[rows[0]] = score.get(rows[0], 0.0) + policy.cite_weight / (policy.k + r)
    named = [row for row in _named_rows(snap, want, laws_by_row) if row in laws_by_row]  # candidates only
    in_named_law = (lambda row: snap.documents[snap.chunks[row].doc_id].law.refid in want.laws)
    ranked = named + [row for row in sorted(score, key=lambda row: (not in_named_law(row), -score[row]))
                      if row not in named]  # a law the question names before the others
    return best_per_result([laws_by_row[row] for row in ranked])


def _named_rows(snap, want: Intent, laws_by_row: dict[int, Hit]) -> list[int]:
    """The first passage of each § the question names: in the named law, else in the law the pool ranks highest."""
    laws: LawSections = snap.laws
    rank = {row: i for i, row in enumerate(laws_by_row)}
    out = []
    for key in want.sections:
        refids = list(want.laws) or sorted({r for r, k in laws.rows if k == key},
                                           key=lambda r: min(rank.get(x, len(rank)) for x in laws.rows[(r, key)]))
        for refid in refids:
            if (refid, key) in laws.rows:
                out.append(laws.rows[(refid, key)][0])
                break
    return out


def agreed_section(laws: list[Hit]) -> str | None:
    """The law section (`Hit.unit`) both retrievers rank first in the law pool, or None: BM25's top passage and the
    vectors' top passage belong to the same §. None when only one retriever ran."""
    by_bm25 = next((h for h in laws if h.bm25_rank == 1), None)
    by_vector = next((h for h in laws if h.vector_rank == 1), None)
    return by_bm25.unit if by_bm25 and by_vector and by_bm25.unit == by_vector.unit else None
