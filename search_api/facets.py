"""The theme chips' counts: how many results (documents; law sections) the same search gives with each theme as its filter.

Instead of one filtered search per theme, each retriever runs once over every passage that passes the
request's other filters (the candidate pool), and a theme's lists are the pool's rows of that theme, cut
at the depth a filtered search returns. A theme filter only removes rows; it does not reorder them, so
this is the filtered search's candidate set (tests/test_facets.py checks the counts against one filtered
search per theme on the suite's questions). The pool holds every passage: right for an exact index of
this bank's size; an IVF index (from `indexer.write.ANN_THRESHOLD` passages on) would need a bounded pool.
"""

from __future__ import annotations

import numpy as np

from . import legal
from .expand import QueryPlan
from .index_store import Snapshot
from .params import SearchRequest
from .retrieve import bm25_ranked, question_ranked, vector_ranked

THEME = "theme"


def theme_counts(snap: Snapshot, req: SearchRequest, qp: QueryPlan, query_vector: np.ndarray | None, depth: int,
                 bm25: bool, dense: bool, question_weight: float, law_pool: bool = False) -> dict[str, int]:
    """theme id → results the search would return filtered to that theme (themes with none left out).

    `bm25`, `dense`: the retrievers the fusion method runs; `question_weight` > 0: the editors' questions
    join as a document list (search.FUSIONS, search.rank); `law_pool`: the law texts are searched as a pool of
    their own, cut at the same depth (legal.pools)."""
    others = {name: values for name, values in req.filters.items() if name != THEME}
    split = legal.pools(snap, others) if law_pool else None
    pools: list[np.ndarray] = []  # chunk rows, best first, one list per retriever and pool
    for filters in (split or (others,)):
        if bm25:
            pools.append(_rows(bm25_ranked(snap, qp.terms, filters, len(snap.chunks))))
        if dense:
            pools.append(_rows(vector_ranked(snap, query_vector, filters, len(snap.chunks))))
    question_docs = None
    if question_weight > 0:
        writing = split[0] if split else others  # law chapters have no editors' questions
        question_docs = snap.question_doc[_rows(question_ranked(snap, query_vector, writing, len(snap.questions)))]
    counts: dict[str, int] = {}
    for theme in snap.theme_ids:
        rows_of_theme = snap.masks[THEME].get(theme)
        if rows_of_theme is None:
            continue
        docs = [snap.row_unit[rows[rows_of_theme[rows]][:depth]] for rows in pools]
        if question_docs is not None:
            docs.append(question_docs[snap.doc_masks[THEME][theme][question_docs]][:depth])
        n = len(np.unique(np.concatenate(docs))) if docs else 0
        if n:
            counts[theme] = n
    return counts


def _rows(ranked: list[tuple[float, int]]) -> np.ndarray:
    return np.fromiter((row for _, row in ranked), dtype=np.int64, count=len(ranked))
