"""The answer box: 1–3 sentences quoted word for word from the top passages, each with its citation.

Nothing is generated or paraphrased: a sentence is shown exactly as the passage has it, with a
mark ([1], [2]) pointing to the hit it comes from. When the evidence is weak, the box says so
instead («Fant ikke et sikkert svar») and offers the closest themes.

Evidence, with the learned fusion: the model's confidence that the top hit answers (`Confidence`, fitted by
`make train` on questions the holdout adapter never saw, stored with the fusion's weights). With `rrf` or
`weighted`, whose scores are no probabilities: the agreement of the two retrievers on the top document (both put
its passage near the top of their own lists) and its lead over the next document, which a single retriever
(`bm25`, `dense`) can never show, so it never answers. The
thresholds below were chosen on the practitioner suite (`make eval` prints the answer table, the sweep and a
two-fold check; evaluations/README.md has the evidence).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

import msgspec

from indexer.chunk import sentences

from .hits import Citation, Hit
from .index_store import Snapshot
from .snippets import matched_terms

# list items run together in a passage's text as « - item»; a spaced en dash « – » is prose (a parenthesis, a
# pause): splitting there would quote half a sentence
_LIST_ITEM = re.compile(r"\s+[-•]\s+(?=\S)")
PER_PASSAGE = 2
SOURCES = 3  # the top hits an answer is built from (quoted from the first two, themes from all three)


@dataclass(frozen=True)
class Confidence:
    """The probability that the top hit answers the question, from two things the learned fusion already knows:
    the top hit's fused score and its lead over the next result, both on the logit scale. A logistic model over
    them: fitted by `make train` (training/answer.py), read from the fusion model's file (field `answer`)."""

    bias: float
    score: float
    """Weight of logit(top score)."""
    lead: float
    """Weight of logit(top score) − logit(second score); a hit with nothing after it leads by 0 (one or two
    results left by a filter are no evidence of a clear winner, and training never saw such a list)."""

    @staticmethod
    def features(hits: list[Hit]) -> tuple[float, float]:
        """(logit of the top score, its lead over the next result): what the model reads, in training and serving."""
        top = _logit(hits[0].score)
        return top, (top - _logit(hits[1].score) if len(hits) > 1 else 0.0)

    def of(self, hits: list[Hit]) -> float:
        top, lead = self.features(hits)
        return 1.0 / (1.0 + math.exp(-(self.bias + self.score * top + self.lead * lead)))


@dataclass(frozen=True)
class AnswerPolicy:
    max_rank: int = 3
    """Rank rule: answer only when the top passage is within this rank in both the BM25 and the vector list."""
    min_margin: float = 0.05
    """... and its fused score leads the second document's by at least this share (`margin` = `relative`), or
    by this much on the logit scale (`logit`)."""
    margin: str = "relative"
    min_score: float = 0.0
    """... and its fused score reaches this."""
    max_sentences: int = 3
    confidence: Confidence | None = None
    """With the learned fusion: answer when `confidence.of(hits)` reaches `min_confidence`, instead of the rank
    rule above."""
    min_confidence: float = 0.4
    common_share: float = 0.25
    """A word held by more than this share of the bank's passages («skole», «barn», «elev»: about 0.4) names a
    setting, not a topic; a question of only such words is a topic to browse, and the box abstains (`is_vague`)."""

    def __post_init__(self) -> None:
        if self.margin not in ("relative", "logit"):
            raise ValueError(f"AnswerPolicy.margin: {self.margin!r}; valid values: 'relative' or 'logit'")


POLICY = AnswerPolicy()
"""Without a confidence model (fusions other than `learned`, or a fusion file without its `answer` field)."""


def is_vague(rarest_share: float | None, policy: AnswerPolicy = POLICY) -> bool:
    """Is every word of the question held by more than `common_share` of the passages (`QueryPlan.rarest_share`)?"""
    return rarest_share is not None and rarest_share > policy.common_share


def policy_for(confidence: Confidence | None) -> AnswerPolicy:
    """The served policy: the confidence threshold when the fusion has a confidence model, else `POLICY`."""
    return replace(POLICY, confidence=confidence) if confidence is not None else POLICY


class AnswerSentence(msgspec.Struct):
    text: str
    hit: int
    """1-based position of the hit in the result list: the citation mark [hit]."""
    doc_id: str
    anchor: str
    citation: Citation


class Answer(msgspec.Struct):
    answered: bool
    sentences: list[AnswerSentence] = []
    message: str = ""
    themes: list[str] = []
    """When abstaining: the themes the question is closest to (routing, else the top hits' themes)."""


NO_ANSWER = "Fant ikke et sikkert svar – se treffene under."


def evidence(hits: list[Hit], policy: AnswerPolicy = POLICY) -> bool:
    """Is the top document sure enough to quote: by the confidence model when the policy has one, else by the
    rank rule (both retrievers rank its passage near the top, and it leads the next document)?"""
    if not hits:
        return False
    if policy.confidence is not None:
        return policy.confidence.of(hits) >= policy.min_confidence
    top = hits[0]
    if top.score < policy.min_score:
        return False
    if top.bm25_rank is None or top.vector_rank is None:
        return False
    if top.bm25_rank > policy.max_rank or top.vector_rank > policy.max_rank:
        return False
    if len(hits) > 1 and policy.margin == "logit":
        return _logit(top.score) - _logit(hits[1].score) >= policy.min_margin
    if len(hits) > 1 and top.score > 0:
        return (top.score - hits[1].score) / top.score >= policy.min_margin
    return True


def _logit(p: float) -> float:
    p = min(max(p, 1e-9), 1 - 1e-9)
    return math.log(p / (1 - p))


def _score(sentence: str, weights: dict[str, float]) -> float:
    return sum(weights[t] for t in matched_terms(sentence, weights.keys()))


def _candidates(text: str) -> list[str]:
    """Whole sentences and list items of a passage, as written (each is a substring of the passage)."""
    out = []
    for sentence in sentences(text):
        for part in _LIST_ITEM.split(sentence):
            part = part.strip()
            if len(part.split()) >= 4 and not part.endswith((":", "?")):  # a question answers nothing
                out.append(part)
    return out


def _best_sentences(text: str, weights: dict[str, float], n: int, lead: bool = True) -> list[str]:
    """The passage's sentences carrying most of the question's (rarer) terms, in passage order; when none
    match, the lead sentence (the vector search found the passage by meaning), or nothing without `lead`."""
    candidates = _candidates(text)
    if not candidates or n < 1:
        return []
    scored = sorted(((_score(s, weights), -i, s) for i, s in enumerate(candidates)), reverse=True)[:n]
    if scored[0][0] == 0:
        return candidates[:1] if lead else []
    keep = [b for b in scored if b[0] > 0]
    return [s for _, _, s in sorted(keep, key=lambda b: -b[1])]


def _term_weights(snap: Snapshot, terms: list[str]) -> dict[str, float]:
    """Inverse document frequency: «fråvær» tells more about an answer than «snakke»."""
    n = max(len(snap.chunks), 1)
    return {t: math.log(1 + n / (1 + snap.searcher.doc_freq("text", t))) for t in terms}


def build_answer(snap: Snapshot, hits: list[Hit], terms: list[str], routed: list[str],
                 policy: AnswerPolicy = POLICY, translated: bool = False, vague: bool = False) -> Answer:
    """Quote the top passage (and the second, when it has its own strong evidence), or abstain.

    `translated`: the question is in English, so both lists searched its bokmål translation (BM25 its words, the
    vectors the question with them): their agreement is not two independent pieces of evidence, and the box
    abstains. `vague`: the question holds only common words (`is_vague`); the box abstains too."""
    if translated or vague or not evidence(hits, policy):
        themes = list(routed[:3])
        for h in hits[:SOURCES]:
            for t in h.themes[:1]:
                if t not in themes:
                    themes.append(t)
        return Answer(answered=False, message=NO_ANSWER, themes=themes[:3])
    weights = _term_weights(snap, terms)
    out: list[AnswerSentence] = []
    sources = [0] + ([1] if len(hits) > 1 and evidence(hits[1:], policy) else [])
    for pos in sources:
        h = hits[pos]
        want = min(PER_PASSAGE, policy.max_sentences - len(out))
        # the second passage only adds to the answer: its lead sentence, sharing no word with the question, is none
        for s in _best_sentences(snap.chunks[h.chunk_id].text, weights, want, lead=pos == 0):
            out.append(AnswerSentence(text=s, hit=pos + 1, doc_id=h.doc_id, anchor=h.anchor, citation=h.citation))
    if not out:
        return Answer(answered=False, message=NO_ANSWER, themes=list(routed[:3]))
    return Answer(answered=True, sentences=out[:policy.max_sentences])
