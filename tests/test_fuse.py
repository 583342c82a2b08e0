import pytest

from search_api.fuse import rrf, weighted
from search_api.hits import Hit


def _dense(*ids):
    return [Hit(chunk_id=i, doc_id=f"d{i}", vector_score=1.0 - r / 10, vector_rank=r) for r, i in enumerate(ids, 1)]


def _bm25(*pairs):
    return [Hit(chunk_id=i, doc_id=f"d{i}", bm25_score=s, bm25_rank=r) for r, (i, s) in enumerate(pairs, 1)]


def test_rrf_weighted_arithmetic():
    dense = _dense(1, 2, 3)
    bm25 = _bm25((3, 9.0), (1, 4.0))
    out = rrf([dense, bm25], [1.0, 0.5], k=60)
    scores = {h.chunk_id: h.score for h in out}
    assert scores[1] == pytest.approx(1 / (60 + 1) + 0.5 / (60 + 2))
    assert scores[2] == pytest.approx(1 / (60 + 2))
    assert scores[3] == pytest.approx(1 / (60 + 3) + 0.5 / (60 + 1))
    assert [h.chunk_id for h in out] == [1, 3, 2]
    assert out[1].bm25_rank == 1 and out[1].vector_rank == 3  # score parts survive fusion


def test_weighted_minmax_arithmetic():
    dense = _dense(1, 2, 3)          # scores 0.9, 0.8, 0.7
    bm25 = _bm25((3, 9.0), (1, 4.0), (4, 1.0))
    out = weighted([dense, bm25], [1.0, 0.5], [lambda h: h.vector_score, lambda h: h.bm25_score])
    scores = {h.chunk_id: h.score for h in out}
    assert scores[1] == pytest.approx(1.0 + 0.5 * (4 - 1) / (9 - 1))
    assert scores[2] == pytest.approx((0.8 - 0.7) / (0.9 - 0.7))
    assert scores[3] == pytest.approx(0.0 + 0.5 * 1.0)
    assert scores[4] == pytest.approx(0.0)


def test_single_list_and_empty_lists():
    assert [h.chunk_id for h in rrf([_dense(5, 6), []], [1.0, 0.5])] == [5, 6]
    assert rrf([[], []], [1.0, 1.0]) == []
    one = weighted([_dense(7), []], [1.0, 1.0], [lambda h: h.vector_score, lambda h: h.bm25_score])
    assert one[0].score == 1.0
