"""Fusion by a small learned model: a logistic regression over rank and score features of both retrievers.

Every passage that BM25 or the vectors hand to fusion gets the features below; the model's weights
(`models/fusion.json`, written by `make train` from training questions only, never a suite's) turn them
into a score, and passages are ranked by it. The features are chosen to mean the same thing in a bank of
25 documents and one of 10,000: ranks on a log scale, scores relative to the list's own top and spread,
plus what the question itself says (the share of its words the bank knows, how far BM25's top hit stands
out, how much the two lists agree). So the model can learn *when* BM25 is evidence — a question that
names something — and when its matches are only shared everyday words, instead of hand-set constants.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from indexer.errors import ConfigError
from indexer.settings import ROOT

from .answer import Confidence
from .hits import Hit

FUSION_FILE = ROOT / "models" / "fusion.json"
MATCH_CAP = 3.0
PEAK_CAP = 10.0
"""`log_peak` is at most ln(10) (the top BM25 hit ten times the mean of hits 2–10; no suite's question comes near),
and a BM25 list of a single hit has it: one passage holds the question's words, the sharpest peak there is
(evaluations/README.md, «Session 11»)."""
FEATURES = (
    "dense_log_rank", "dense_gap_z", "bm25_log_rank", "bm25_rel", "bm25_gap_z", "in_dense", "in_bm25", "routed",
    "known", "log_peak", "agreement", "match",
    "bm25_log_rank_x_known", "bm25_log_rank_x_agreement", "bm25_log_rank_x_log_peak", "bm25_log_rank_x_match",
    "bm25_rel_x_known", "bm25_rel_x_agreement", "bm25_rel_x_log_peak", "bm25_rel_x_match",
)
"""Per passage: `*_log_rank` = −ln(rank) (missing: −ln(depth + 1)); `dense_gap_z`, `bm25_gap_z` = (score −
the list's top score) / the standard deviation of the list's top 10; `bm25_rel` = score / top score;
`in_*` = the passage is in that list. Per question: `known` = share of its words the bank knows (of an
English question: of its bokmål translation, times the share translated; `QueryPlan.known`), `log_peak` =
ln(BM25's top score / mean of its hits 2–10), at most ln(`PEAK_CAP`), which a list of one hit has,
`agreement` = share of BM25's top 10 also in the vectors' top 10, `match` = BM25's top score / the question's
idf mass (`QueryPlan.idf_mass`, capped at 3): how much of the question BM25's best passage holds. `routed` =
the passage's document is in a theme the thesaurus routes the question to. The products let BM25's weight
depend on the question; the question-level features alone shift every passage of a question alike, so they only
matter for the score's calibration."""


@dataclass(frozen=True)
class FusionModel:
    weights: dict[str, float]
    bias: float
    sha256: str
    card: dict
    answer: Confidence | None = None
    """The answer box's confidence model for this fusion's scores (field `answer`; absent in files written before
    it existed, and then the box keeps its rank rule)."""

    def vector(self) -> np.ndarray:
        return np.array([self.weights[f] for f in FEATURES], dtype=np.float64)


def read_model(path: Path = FUSION_FILE) -> FusionModel:
    try:
        raw = Path(path).read_bytes()
        data = json.loads(raw)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the fusion model ({exc.strerror}); run `make train`, or set "
                          "SOVEI_FUSION=rrf.") from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not JSON ({exc}).") from exc
    weights = data.get("weights", {})
    missing = [f for f in FEATURES if not isinstance(weights.get(f), (int, float))]
    if missing or not isinstance(data.get("bias"), (int, float)):
        raise ConfigError(f"{path}: field 'weights' lacks {', '.join(missing) or 'nothing'}; field 'bias' "
                          f"{'ok' if isinstance(data.get('bias'), (int, float)) else 'missing'}; run `make train`.")
    return FusionModel({f: float(weights[f]) for f in FEATURES}, float(data["bias"]),
                       hashlib.sha256(raw).hexdigest(), data.get("card", {}), _confidence(path, data.get("answer")))


def _confidence(path: Path, block) -> Confidence | None:
    if block is None:
        return None
    names = [f.name for f in dataclasses.fields(Confidence)]
    bad = [f for f in names if not isinstance(block, dict) or not isinstance(block.get(f), (int, float))]
    if bad:
        raise ConfigError(f"{path}: field 'answer' needs numbers {', '.join(names)}; "
                          f"missing or not a number: {', '.join(bad)}; run `python -m training --stage answer`.")
    return Confidence(**{f: float(block[f]) for f in names})


@lru_cache(maxsize=4)
def load(path: Path) -> FusionModel:
    """The model at `path`, read once per process."""
    return read_model(path)


def _z_gaps(scores: list[float]) -> tuple[float, float]:
    """(top score, spread of the top 10) of a list, spread at least a small floor."""
    top = scores[0]
    spread = float(np.std(scores[:10])) if len(scores) > 1 else 0.0
    return top, max(spread, 1e-3 * max(abs(top), 1e-6))


def features(dense: list[Hit], bm25: list[Hit], known: float, routed: set[str] | None = None,
             theme_of=None, depth: int = 100, idf_mass: float = 0.0) -> tuple[list[Hit], np.ndarray]:
    """The candidates (one Hit per passage, both lists' score parts merged) and their feature rows."""
    from .fuse import _merge

    merged = _merge([dense, bm25])
    hits = list(merged.values())
    x = np.zeros((len(hits), len(FEATURES)))
    missing_rank = -math.log(depth + 1)
    d_top, d_spread = _z_gaps([h.vector_score for h in dense]) if dense else (0.0, 1.0)
    b_top, b_spread = _z_gaps([h.bm25_score for h in bm25]) if bm25 else (0.0, 1.0)
    peak = 1.0
    if len(bm25) >= 2:
        rest = [h.bm25_score for h in bm25[1:10]]
        mean = sum(rest) / len(rest)
        peak = bm25[0].bm25_score / mean if mean > 0 else 1.0
    elif bm25:
        peak = PEAK_CAP
    agreement = (len({h.chunk_id for h in bm25[:10]} & {h.chunk_id for h in dense[:10]}) / min(10, len(bm25))
                 if bm25 and dense else 0.0)
    log_peak = math.log(min(max(peak, 1.0), PEAK_CAP))
    match = min(bm25[0].bm25_score / idf_mass, MATCH_CAP) if bm25 and idf_mass > 0 else 0.0
    # a passage missing from a list scores one spread below that list's last hit
    d_missing = (dense[-1].vector_score - d_top) / d_spread - 1 if dense else 0.0
    b_missing = (bm25[-1].bm25_score - b_top) / b_spread - 1 if bm25 else 0.0
    for i, h in enumerate(hits):
        in_d, in_b = h.vector_rank is not None, h.bm25_rank is not None
        d_lr = -math.log(h.vector_rank) if in_d else missing_rank
        b_lr = -math.log(h.bm25_rank) if in_b else missing_rank
        d_gap = (h.vector_score - d_top) / d_spread if in_d else d_missing
        b_rel = h.bm25_score / b_top if in_b and b_top > 0 else 0.0
        b_gap = (h.bm25_score - b_top) / b_spread if in_b else b_missing
        is_routed = float(bool(routed) and theme_of is not None and theme_of(h.doc_id) in routed)
        x[i] = (d_lr, d_gap, b_lr, b_rel, b_gap, in_d, in_b, is_routed, known, log_peak, agreement, match,
                b_lr * known, b_lr * agreement, b_lr * log_peak, b_lr * match,
                b_rel * known, b_rel * agreement, b_rel * log_peak, b_rel * match)
    return hits, x


def fuse(model: FusionModel, dense: list[Hit], bm25: list[Hit], known: float, routed: set[str] | None = None,
         theme_of=None, depth: int = 100, idf_mass: float = 0.0) -> tuple[list[Hit], dict[str, float]]:
    """Passages ranked by the model's probability that they answer, best first (ties by best single rank,
    then chunk id), and the weights of the two ranks for this question: what a step of −ln(rank) in each
    list is worth (BM25's depends on the question through the products)."""
    from .fuse import _best_rank

    hits, x = features(dense, bm25, known, routed, theme_of, depth, idf_mass)
    scores = 1.0 / (1.0 + np.exp(-(x @ model.vector() + model.bias)))
    for h, s in zip(hits, scores):
        h.score = float(s)
    hits.sort(key=lambda h: (-h.score, _best_rank(h), h.chunk_id))
    w = model.weights
    q = dict(zip(FEATURES, x[0])) if len(x) else dict.fromkeys(FEATURES, 0.0)
    bm25_w = (w["bm25_log_rank"] + w["bm25_log_rank_x_known"] * q["known"]
              + w["bm25_log_rank_x_agreement"] * q["agreement"] + w["bm25_log_rank_x_log_peak"] * q["log_peak"]
              + w["bm25_log_rank_x_match"] * q["match"])
    return hits, {"dense": w["dense_log_rank"], "bm25": float(bm25_w) if bm25 else 0.0}
