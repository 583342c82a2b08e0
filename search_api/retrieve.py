"""The two retrievers. Filters apply inside both, before fusion."""

from __future__ import annotations

from dataclasses import dataclass

import faiss
import numpy as np
import tantivy

from indexer.filters import BY_PARAM

from .expand import Term
from .hits import Hit
from .index_store import Snapshot

TITLE_BOOST = 0.5


def allowed_rows(snap: Snapshot, filters: dict[str, list[str]], level: str = "chunk") -> np.ndarray | None:
    """Boolean mask of chunk rows (level "document": document positions) that pass every filter
    (any-of within a field); None = no filter."""
    masks, n = (snap.masks, len(snap.chunks)) if level == "chunk" else (snap.doc_masks, len(snap.documents))
    mask = None
    for name, values in filters.items():
        if not values:
            continue
        field_mask = np.zeros(n, dtype=bool)
        for v in values:
            m = masks.get(name, {}).get(v)
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
    return [Hit(chunk_id=row, doc_id=snap.chunks[row].doc_id, unit=snap.unit(row), bm25_score=score, bm25_rank=rank)
            for rank, (score, row) in enumerate(bm25_ranked(snap, terms, filters, limit), start=1)]


def bm25_ranked(snap: Snapshot, terms: list[Term], filters: dict[str, list[str]], limit: int) -> list[tuple[float, int]]:
    """(score, chunk row) of BM25's best passages, best first."""
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
            field = BY_PARAM[name].index_field
            clauses.append((tantivy.Occur.Must, tantivy.Query.term_set_query(schema, field, list(values))))
    result = snap.searcher.search(tantivy.Query.boolean_query(clauses), limit=limit, count=False)
    return [(float(score), snap.searcher.doc(address)["chunk_id"][0]) for score, address in result.hits]


def filtered_nprobe(index, allowed: int) -> int:
    """Lists to probe under a filter. A narrow filter leaves few allowed rows in the usual lists, so an
    approximate search would miss them: below 10 % allowed, probe every list (exact over the allowed rows)."""
    if allowed < index.ntotal // 10:
        return index.nlist
    return min(index.nprobe * 4, index.nlist)


def _nearest(index, query_vector: np.ndarray, mask: np.ndarray | None, limit: int) -> list[tuple[float, int]]:
    """(score, row) of the nearest vectors, best first; with a mask, FAISS only considers the allowed rows."""
    n = index.ntotal
    ivf = isinstance(index, faiss.IndexIVF)
    params = faiss.SearchParametersIVF(nprobe=index.nprobe) if ivf else None
    if mask is not None:
        ids = np.flatnonzero(mask).astype(np.int64)
        if len(ids) == 0:
            return []
        sel = faiss.IDSelectorBatch(ids)
        params = (faiss.SearchParametersIVF(sel=sel, nprobe=filtered_nprobe(index, len(ids)))
                  if ivf else faiss.SearchParameters(sel=sel))
        n = len(ids)
    k = min(limit, n)
    if k < 1:
        return []
    scores, rows = index.search(np.ascontiguousarray(query_vector.reshape(1, -1), dtype=np.float32), k, params=params)
    return [(float(s), int(r)) for s, r in zip(scores[0], rows[0]) if r >= 0]


def vector_search(snap: Snapshot, query_vector: np.ndarray, filters: dict[str, list[str]], limit: int) -> list[Hit]:
    """Exact inner-product search over the passages (IVF above ANN_THRESHOLD), filtered inside FAISS."""
    return [Hit(chunk_id=row, doc_id=snap.chunks[row].doc_id, unit=snap.unit(row), vector_score=score,
                vector_rank=rank)
            for rank, (score, row) in enumerate(vector_ranked(snap, query_vector, filters, limit), start=1)]


def vector_ranked(snap: Snapshot, query_vector: np.ndarray, filters: dict[str, list[str]],
                  limit: int) -> list[tuple[float, int]]:
    """(score, chunk row) of the nearest passages, best first."""
    return _nearest(snap.vectors, query_vector, allowed_rows(snap, filters), limit)


@dataclass
class QuestionMatch:
    doc_id: str
    score: float
    rank: int
    """The document's rank among documents, by its closest question."""
    question: str


def question_search(snap: Snapshot, query_vector: np.ndarray, filters: dict[str, list[str]],
                    limit: int) -> list[QuestionMatch]:
    """Documents ranked by the editors' question closest to the practitioner's (one entry per document)."""
    out: list[QuestionMatch] = []
    seen: set[str] = set()
    for score, row in question_ranked(snap, query_vector, filters, limit):
        question = snap.questions[row]
        if question.doc_id not in seen:
            seen.add(question.doc_id)
            out.append(QuestionMatch(question.doc_id, score, len(out) + 1, question.text))
    return out


def question_ranked(snap: Snapshot, query_vector: np.ndarray, filters: dict[str, list[str]],
                    limit: int) -> list[tuple[float, int]]:
    """(score, question row) of the editors' questions nearest the practitioner's, best first."""
    if not snap.questions:
        return []
    docs = allowed_rows(snap, filters, level="document")
    mask = None if docs is None else docs[snap.question_doc]
    return _nearest(snap.question_vectors, query_vector, mask, limit)
