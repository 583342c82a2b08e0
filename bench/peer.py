"""Side by side with a peer: txtai's hybrid index on the same passages, vectors and questions.

Same corpus: txtai indexes exactly our passages, with the text the embedding model saw (title ›
section. passage). Same embeddings: txtai's `external` vectors method gets our cached passage
vectors and our query embedder, so the comparison is of indexing and ranking, not of models.
txtai keeps its defaults otherwise (hybrid = its BM25 + dense, convex combination with weight
0.5). Both sides are ranked per document (best passage), scored with the same ranx metric, and
timed in-process per question, query embedding included.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

import numpy as np
from ranx import Qrels, Run, evaluate

from evaluations.harness import DEPTH, doc_run
from indexer.chunk import passage_text_of
from search_api.params import SearchRequest
from search_api.search import rank

from .load import pct


@dataclass(frozen=True)
class PeerRow:
    suite: str
    system: str
    ndcg10: float
    p50_ms: float
    p99_ms: float


def _passages(snap) -> tuple[list[str], np.ndarray, list[str]]:
    """Our passages as the embedder saw them, their (indexed) vectors, and each row's document id."""
    texts = [passage_text_of(snap.documents[c.doc_id].title, c.heading_path, c.text) for c in snap.chunks]
    vectors = snap.vectors.reconstruct_n(0, snap.vectors.ntotal)
    return texts, vectors, [c.doc_id for c in snap.chunks]


def _ndcg(qrels: dict, run: dict) -> float:
    return float(evaluate(Qrels(qrels), Run(run), "ndcg@10", make_comparable=True))


def side_by_side(suite, snap, emb, settings) -> list[PeerRow]:
    from txtai import Embeddings

    texts, vectors, row_doc = _passages(snap)
    by_text = {t: v for t, v in zip(texts, vectors)}

    def transform(batch):
        # Passages come back from our cache; anything else is a question.
        return np.stack([by_text[t] if t in by_text else emb.embed_query(t) for t in batch])

    peer = Embeddings(method="external", transform=transform, hybrid=True, content=False, backend="faiss")
    peer.index([(row, text, None) for row, text in enumerate(texts)])

    rows = []
    qids = list(suite.qrels)
    for q in qids[:5]:  # warm both
        peer.search(suite.queries[q], 5)
        rank(snap, emb, settings, SearchRequest(q=suite.queries[q], k=10), None)

    ours_run, peer_run, ours_t, peer_t = {}, {}, [], []
    for q in qids:
        text = suite.queries[q]
        t0 = time.perf_counter()
        fused, *_ = rank(snap, emb, settings, SearchRequest(q=text, k=DEPTH), None)
        ours_run[q] = doc_run(h.doc_id for h in fused)
        ours_t.append((time.perf_counter() - t0) * 1000)

        t0 = time.perf_counter()
        hits = peer.search(text, DEPTH * 10)  # passages; several per document
        peer_t.append((time.perf_counter() - t0) * 1000)
        peer_run[q] = doc_run(row_doc[int(i)] for i, _ in hits)

    for name, run, t in (("ours (hybrid)", ours_run, ours_t), ("txtai 9 hybrid (defaults)", peer_run, peer_t)):
        rows.append(PeerRow(suite.name, name, _ndcg(suite.qrels, run), statistics.median(t), pct(t, 0.99)))
    return rows
