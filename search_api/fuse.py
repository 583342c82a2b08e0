"""Fusion of the BM25 and vector lists into one ranking.

Each function takes ranked lists of Hits (best first) with their weights and returns one
list of Hits (best first) whose `score` is the fused score; score parts are kept.
"""

from __future__ import annotations

from .hits import Hit


def _merge(lists: list[list[Hit]]) -> dict[int, Hit]:
    """One Hit per chunk carrying both lists' score parts. The retrievers make fresh Hits for every
    query, so the first one seen is completed in place rather than copied."""
    merged: dict[int, Hit] = {}
    for hits in lists:
        for h in hits:
            m = merged.setdefault(h.chunk_id, h)
            if m is not h:
                if h.bm25_rank is not None:
                    m.bm25_score, m.bm25_rank = h.bm25_score, h.bm25_rank
                if h.vector_rank is not None:
                    m.vector_score, m.vector_rank = h.vector_score, h.vector_rank
    return merged


def rrf(lists: list[list[Hit]], weights: list[float], k: int = 60) -> list[Hit]:
    """Weighted reciprocal rank fusion: score(d) = Σᵢ wᵢ / (k + rankᵢ(d)), ranks from 1.

    Cormack, Clarke & Büttcher (2009), "Reciprocal rank fusion outperforms Condorcet and
    individual rank learning methods", SIGIR.
    """
    merged = _merge(lists)
    scores = dict.fromkeys(merged, 0.0)
    for hits, w in zip(lists, weights):
        for rank, h in enumerate(hits, start=1):
            scores[h.chunk_id] += w / (k + rank)
    return _ranked(merged, scores)


def rrf_documents(fused: list[Hit], matches, weight: float, k: int, entry_hit) -> list[Hit]:
    """Add a ranked list of documents (`matches`: doc_id, rank, score, question) to a fused passage
    ranking by RRF: every passage of a listed document gains weight / (k + the document's rank), so the
    order within a document stays the passages' own. A listed document with no passage in `fused`
    enters with `entry_hit(doc_id)`, its first passage."""
    if not matches:
        return fused
    by_doc = {m.doc_id: m for m in matches}
    present: set[str] = set()
    out = list(fused)
    for h in out:
        m = by_doc.get(h.doc_id)
        if m is not None:
            present.add(h.doc_id)
            _mark(h, m)
            h.score += weight / (k + m.rank)
    for m in matches:
        if m.doc_id not in present:
            h = entry_hit(m.doc_id)
            _mark(h, m)
            h.score = weight / (k + m.rank)
            out.append(h)
    out.sort(key=lambda h: (-h.score, _best_rank(h), h.chunk_id))
    return out


def _mark(h: Hit, m) -> None:
    h.question_score, h.question_rank, h.question = m.score, m.rank, m.question


def weighted(lists: list[list[Hit]], weights: list[float], scores_of) -> list[Hit]:
    """Weighted sum of min-max normalised scores: score(d) = Σᵢ wᵢ · (sᵢ(d) − minᵢ) / (maxᵢ − minᵢ).

    A list with one hit (or equal scores) normalises to 1. A document missing from a list
    contributes 0 for it. `scores_of[i](hit)` reads list i's raw score.
    """
    merged = _merge(lists)
    scores = dict.fromkeys(merged, 0.0)
    for hits, w, get in zip(lists, weights, scores_of):
        if not hits:
            continue
        raw = [get(h) for h in hits]
        lo, hi = min(raw), max(raw)
        for h, s in zip(hits, raw):
            scores[h.chunk_id] += w * ((s - lo) / (hi - lo) if hi > lo else 1.0)
    return _ranked(merged, scores)


def _ranked(merged: dict[int, Hit], scores: dict[int, float]) -> list[Hit]:
    out = []
    # ties: better best-single-rank first, then chunk id, so rankings are deterministic
    for cid in sorted(scores, key=lambda c: (-scores[c], _best_rank(merged[c]), c)):
        h = merged[cid]
        h.score = scores[cid]
        out.append(h)
    return out


def _best_rank(h: Hit) -> int:
    return min(r for r in (h.bm25_rank, h.vector_rank, 10**9) if r is not None)
