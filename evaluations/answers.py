"""How good is the answer box? On a graded suite: the share of answered questions whose quoted
sentences all come from documents judged 2, the share whose first sentence does, and the share
abstained; plus a sweep over the evidence thresholds, with a two-fold check of the chosen one.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace

from indexer.embed import load_embedder
from search_api.answer import POLICY, SOURCES, AnswerPolicy, build_answer
from search_api.params import SearchRequest
from search_api.search import answer_policy, search

from .harness import suite_index

TARGET_PRECISION = 0.85  # issue #5: ≥ 85 % of answered questions cite a document judged 2
TARGET_ABSTAIN = 0.10


@dataclass(frozen=True)
class AnswerScore:
    policy: AnswerPolicy
    questions: int
    answered: int
    all_grade2: int
    first_grade2: int

    @property
    def abstained_share(self) -> float:
        return 1 - self.answered / self.questions if self.questions else 0.0

    @property
    def precision(self) -> float:
        """Answered questions whose every quoted sentence comes from a document judged 2."""
        return self.all_grade2 / self.answered if self.answered else 0.0

    @property
    def first_precision(self) -> float:
        return self.first_grade2 / self.answered if self.answered else 0.0


def _served(suite, snap, emb, settings) -> dict:
    """Per question: the served search's top hits and terms (the answer box's input), searched once."""
    out = {}
    for qid in suite.qrels:
        r = search(snap, emb, settings, SearchRequest(q=suite.queries[qid], k=SOURCES))
        out[qid] = (r.hits, r.terms, r.translated, r.vague)
    return out


def score(suite, snap, ranked, policy: AnswerPolicy, qids=None) -> AnswerScore:
    qids = list(qids if qids is not None else suite.qrels)
    answered = all2 = first2 = 0
    for qid in qids:
        docs, terms, translated, vague = ranked[qid]
        a = build_answer(snap, docs, terms, [], policy, translated, vague)  # routed themes only matter when abstaining
        if not a.answered:
            continue
        answered += 1
        grades = [suite.qrels[qid].get(s.doc_id, 0) for s in a.sentences]
        all2 += all(g == 2 for g in grades)
        first2 += grades[0] == 2
    return AnswerScore(policy, len(qids), answered, all2, first2)


SWEEP = [replace(POLICY, max_rank=r, min_margin=m, min_score=p, margin="relative")
         for r, m, p in itertools.product((1, 2, 3, 5, 10, 100), (0.0, 0.05, 0.1, 0.2),
                                          (0.0, 0.5, 0.6, 0.7, 0.8, 0.9))]
# the learned fusion's scores are probabilities, often near 1 for the top two: a lead on the logit scale
SWEEP += [replace(POLICY, max_rank=r, min_margin=m, min_score=0.0, margin="logit")
          for r, m in itertools.product((1, 2, 3, 5, 10), (0.5, 1.0, 1.5, 2.0))]


CONFIDENCES = tuple(round(0.2 + 0.05 * i, 2) for i in range(11))
"""Thresholds of the learned fusion's confidence model (0.20 … 0.70), swept when the served fusion has one."""


def confidence_sweep(served: AnswerPolicy) -> list[AnswerPolicy]:
    if served.confidence is None:
        return []
    return [replace(served, min_confidence=c) for c in CONFIDENCES]


def _rule(policy: AnswerPolicy) -> str:
    """A policy in one cell: the confidence threshold, or rank · margin · score."""
    if policy.confidence is not None:
        return f"confidence ≥ {policy.min_confidence:.2f}"
    return (f"rank ≤ {policy.max_rank}, margin ≥ {policy.min_margin:.2f}"
            + (" (logit)" if policy.margin == "logit" else "") + f", score ≥ {policy.min_score:.2f}")


def pareto(scores: list[AnswerScore]) -> list[AnswerScore]:
    """The policies no other beats on both answered questions and precision, most answered first."""
    front = [s for s in scores if not any(o.answered >= s.answered and o.precision >= s.precision
                                          and (o.answered, o.precision) != (s.answered, s.precision) for o in scores)]
    out, seen = [], set()
    for s in sorted(front, key=lambda s: (-s.answered, -s.precision)):
        if (s.answered, s.precision) not in seen:
            seen.add((s.answered, s.precision))
            out.append(s)
    return out


def choose(scores: list[AnswerScore]) -> AnswerScore:
    """Most questions answered among the policies that reach the precision target (else the most precise)."""
    ok = [s for s in scores if s.precision >= TARGET_PRECISION and s.answered]
    if ok:
        return max(ok, key=lambda s: (s.answered, s.precision))
    return max(scores, key=lambda s: (s.precision, s.answered))


def answer_report(suite, settings) -> list[str]:
    """The answer box as served (these settings), on a suite's graded judgments."""
    snap = suite_index(suite, settings)
    emb = load_embedder(settings.model, settings.threads)
    ranked = _served(suite, snap, emb, settings)
    policy = answer_policy(settings)
    served = score(suite, snap, ranked, policy)
    policies = SWEEP + confidence_sweep(policy)
    sweep = [score(suite, snap, ranked, p) for p in policies]
    lines = [
        f"\n## Answer box ({suite.name}, served: {_rule(policy)})\n",
        "| questions | answered | abstained | all sentences from a grade-2 document | first sentence from grade 2 |",
        "|---:|---:|---:|---:|---:|",
        f"| {served.questions} | {served.answered} | {served.abstained_share:.1%} | {served.precision:.1%} | "
        f"{served.first_precision:.1%} |",
        f"\nTargets (issue #5): ≥ {TARGET_PRECISION:.0%} of answered from grade 2, ≤ {TARGET_ABSTAIN:.0%} abstained; "
        f"issue 16: ≥ 50 % answered at ≥ {TARGET_PRECISION:.0%} on the held-out half of the two-fold check.",
        f"\nSweep ({len(sweep)} policies: max rank in both lists × minimum fused margin × minimum fused score"
        + (f", and {len(CONFIDENCES)} thresholds of the fusion's confidence model" if policy.confidence else "")
        + "), the ones no other beats on both answered and precision:\n",
        "| policy | answered | abstained | precision (all) | precision (first) |",
        "|---|---:|---:|---:|---:|",
    ]
    for s in pareto(sweep):
        lines.append(f"| {_rule(s.policy)} | {s.answered} | {s.abstained_share:.1%} | {s.precision:.1%} | "
                     f"{s.first_precision:.1%} |")
    # two folds: choose on one half of the questions, measure on the other
    lines += _two_fold(suite, snap, ranked, policies, "\nTwo-fold check (the policy chosen on one half, measured on "
                       "the other):\n")
    if policy.confidence is not None:
        lines += _two_fold(suite, snap, ranked, confidence_sweep(policy),
                           "\nTwo-fold check among the confidence thresholds alone:\n")
    return lines


def _two_fold(suite, snap, ranked, policies: list[AnswerPolicy], title: str) -> list[str]:
    qids = sorted(suite.qrels)
    folds = (qids[0::2], qids[1::2])
    lines = [title, "| chosen on | policy | measured: answered | abstained | precision (all) |", "|---|---|---:|---:|---:|"]
    for i, (fit, held) in enumerate((folds, folds[::-1])):
        best = choose([score(suite, snap, ranked, p, fit) for p in policies])
        out = score(suite, snap, ranked, best.policy, held)
        lines.append(f"| half {i + 1} | {_rule(best.policy)} | {out.answered} of {out.questions} | "
                     f"{out.abstained_share:.1%} | {out.precision:.1%} |")
    return lines
