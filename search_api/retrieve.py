"""The two retrievers. Filters apply inside both, before fusion."""

from __future__ import annotations

import faiss
import numpy as np
import tantivy

from .expand import Term
from .hits import Hit
from .index_store import Snapshot

TITLE_BOOST = 0.5


def allowed_rows(snap: Snapshot, filters: dict[str, list[str]]) -> np.ndarray | None:
    """Boolean mask of chunk rows that pass every filter (any-of within a field); None = no filter."""
    mask = None
    for name, values in filters.items():
        if not values:
            continue
        field_mask = np.zeros(len(snap.chunks), dtype=bool)
        for v in values:
            m = snap.masks.get(name, {}).get(v)
            if m is not None:
                field_mask |= m
        mask = field_mask if mask is None else mask & field_mask
    return mask


def _term(schema, name: str, t: Term) -> tantivy.Query:
    if t.kind == "fuzzy":
        q = tantivy.Query.fuzzy_term_query(schema, name, t.text, distance=2 if len(t.text) >= 8 else 1)
    else:
        q = tantivy.Query.term_query(schema, name, t.text)
    return q if t.weight == 1.0 else tantivy.Query.boost_query(q, t.weight)


def bm25_search(snap: Snapshot, terms: list[Term], filters: dict[str, list[str]], limit: int) -> list[Hit]:
    """BM25 over title (boosted) and text, built from analysed terms: user text never reaches a parser."""
    if not terms or limit < 1:  # tantivy panics on limit 0
        return []
    schema = snap.index.schema
    should = []
    for t in terms:
        should.append((tantivy.Occur.Should, _term(schema, "text", t)))
        should.append((tantivy.Occur.Should, tantivy.Query.boost_query(_term(schema, "title", t), TITLE_BOOST)))
    clauses = [(tantivy.Occur.Must, tantivy.Query.boolean_query(should))]
    for name, values in filters.items():
        if values:
            clauses.append((tantivy.Occur.Must, tantivy.Query.term_set_query(schema, name, list(values))))
    result = snap.searcher.search(tantivy.Query.boolean_query(clauses), limit=limit, count=False)
    hits = []
    for rank, (score, address) in enumerate(result.hits, start=1):
        row = snap.searcher.doc(address)["chunk_id"][0]
        hits.append(Hit(chunk_id=row, doc_id=snap.chunks[row]["doc_id"], bm25_score=float(score), bm25_rank=rank))
    return hits


def filtered_nprobe(index, allowed: int) -> int:
    """Lists to probe under a filter. A narrow filter leaves few allowed rows in the usual lists, so an
    approximate search would miss them: below 10 % allowed, probe every list (exact over the allowed rows)."""
    if allowed < index.ntotal // 10:
        return index.nlist
    return min(index.nprobe * 4, index.nlist)


def vector_search(snap: Snapshot, query_vector: np.ndarray, filters: dict[str, list[str]], limit: int) -> list[Hit]:
    """Exact inner-product search; with filters, FAISS only considers the allowed rows."""
    n = snap.vectors.ntotal
    mask = allowed_rows(snap, filters)
    ivf = isinstance(snap.vectors, faiss.IndexIVF)
    params = faiss.SearchParametersIVF(nprobe=snap.vectors.nprobe) if ivf else None
    if mask is not None:
        ids = np.flatnonzero(mask).astype(np.int64)
        if len(ids) == 0:
            return []
        sel = faiss.IDSelectorBatch(ids)
        params = (faiss.SearchParametersIVF(sel=sel, nprobe=filtered_nprobe(snap.vectors, len(ids)))
                  if ivf else faiss.SearchParameters(sel=sel))
        n = len(ids)
    k = min(limit, n)
    if k < 1:
        return []
    scores, rows = snap.vectors.search(np.ascontiguousarray(query_vector.reshape(1, -1), dtype=np.float32),
                                       k, params=params)
    hits = []
    for rank, (score, row) in enumerate(zip(scores[0], rows[0]), start=1):
        if row < 0:
            break
        hits.append(Hit(chunk_id=int(row), doc_id=snap.chunks[row]["doc_id"], vector_score=float(score),
                        vector_rank=rank))
    return hits
