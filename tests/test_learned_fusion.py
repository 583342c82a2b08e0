"""The learned fusion: its features (written as arithmetic), its ordering, and its model file's errors."""

import json
import math

import numpy as np
import pytest

from indexer.errors import ConfigError
from search_api import learned_fusion as lf
from search_api.hits import Hit


def dense_hit(row, rank, score, doc="d"):
    return Hit(chunk_id=row, doc_id=f"{doc}{row}", vector_score=score, vector_rank=rank)


def bm25_hit(row, rank, score, doc="d"):
    return Hit(chunk_id=row, doc_id=f"{doc}{row}", bm25_score=score, bm25_rank=rank)


def col(x, name):
    return x[:, lf.FEATURES.index(name)]


def test_features_of_passages_in_one_list_or_both():
    dense = [dense_hit(1, 1, 0.9), dense_hit(2, 2, 0.8)]
    bm25 = [bm25_hit(2, 1, 10.0), bm25_hit(3, 2, 5.0)]
    hits, x = lf.features(dense, bm25, known=0.5, depth=100)
    rows = {h.chunk_id: i for i, h in enumerate(hits)}
    both, only_dense, only_bm25 = x[rows[2]], x[rows[1]], x[rows[3]]
    f = lf.FEATURES.index
    assert both[f("dense_log_rank")] == pytest.approx(-math.log(2))
    assert both[f("bm25_log_rank")] == pytest.approx(-math.log(1))
    assert only_dense[f("bm25_log_rank")] == pytest.approx(-math.log(101))
    assert only_bm25[f("bm25_rel")] == pytest.approx(5.0 / 10.0)
    d_spread = np.std([0.9, 0.8])
    assert both[f("dense_gap_z")] == pytest.approx((0.8 - 0.9) / d_spread)
    assert only_bm25[f("dense_gap_z")] == pytest.approx((0.8 - 0.9) / d_spread - 1)  # one spread below the last
    assert both[f("in_dense")] == both[f("in_bm25")] == 1 and only_dense[f("in_bm25")] == 0
    # question level: both top-10s hold passage 2 out of BM25's two; peak = 10 / mean(5)
    assert col(x, "agreement") == pytest.approx([1 / 2] * 3)
    assert col(x, "log_peak") == pytest.approx([math.log(10 / 5)] * 3)
    assert both[f("bm25_rel_x_known")] == pytest.approx(1.0 * 0.5)
    assert only_dense[f("bm25_log_rank_x_known")] == pytest.approx(-math.log(101) * 0.5)


def test_a_single_bm25_hit_is_the_sharpest_peak_not_a_flat_list():
    dense = [dense_hit(1, 1, 0.9), dense_hit(2, 2, 0.8)]
    _, single = lf.features(dense, [bm25_hit(3, 1, 12.0)], known=1.0)
    _, flat = lf.features(dense, [bm25_hit(3, 1, 5.0), bm25_hit(4, 2, 5.0)], known=1.0)
    _, steep = lf.features(dense, [bm25_hit(3, 1, 500.0), bm25_hit(4, 2, 1.0)], known=1.0)
    assert set(col(flat, "log_peak")) == {0.0}
    peaks = list(col(single, "log_peak")) + list(col(steep, "log_peak"))
    assert peaks == pytest.approx([math.log(lf.PEAK_CAP)] * len(peaks))


def test_routed_feature_marks_documents_of_the_routed_theme():
    dense = [dense_hit(1, 1, 0.9, "a"), dense_hit(2, 2, 0.8, "b")]
    hits, x = lf.features(dense, [], known=1.0, routed={"mobbing"}, theme_of=lambda d: "mobbing" if d == "a1" else "rus")
    assert {h.doc_id: v for h, v in zip(hits, col(x, "routed"))} == {"a1": 1.0, "b2": 0.0}


def test_fuse_orders_by_the_models_probability():
    dense = [dense_hit(1, 1, 0.9), dense_hit(2, 2, 0.8)]
    bm25 = [bm25_hit(2, 1, 10.0), bm25_hit(3, 2, 5.0)]
    only_bm25 = lf.FusionModel({f: (1.0 if f == "bm25_log_rank" else 0.0) for f in lf.FEATURES}, 0.0, "", {})
    only_dense = lf.FusionModel({f: (1.0 if f == "dense_log_rank" else 0.0) for f in lf.FEATURES}, 0.0, "", {})
    assert [h.chunk_id for h in lf.fuse(only_bm25, dense, bm25, 1.0)[0]] == [2, 3, 1]
    ranked, weights = lf.fuse(only_dense, [dense_hit(1, 1, 0.9), dense_hit(2, 2, 0.8)],
                              [bm25_hit(2, 1, 10.0), bm25_hit(3, 2, 5.0)], 1.0)
    assert [h.chunk_id for h in ranked] == [1, 2, 3]
    assert ranked[0].score == pytest.approx(1 / (1 + math.exp(-0.0)))  # sigmoid(−ln 1)
    assert weights == {"dense": 1.0, "bm25": 0.0}


def test_bm25s_weight_for_a_question_follows_the_products():
    w = dict.fromkeys(lf.FEATURES, 0.0) | {"bm25_log_rank": 0.5, "bm25_log_rank_x_known": 1.0,
                                            "bm25_log_rank_x_agreement": 2.0}
    model = lf.FusionModel(w, 0.0, "", {})
    _, weights = lf.fuse(model, [dense_hit(2, 1, 0.9)], [bm25_hit(2, 1, 10.0), bm25_hit(3, 2, 5.0)], known=0.5)
    assert weights["bm25"] == pytest.approx(0.5 + 1.0 * 0.5 + 2.0 * (1 / 2))


def test_model_file_errors_name_the_file_and_field(tmp_path):
    path = tmp_path / "fusion.json"
    with pytest.raises(ConfigError, match="cannot read the fusion model"):
        lf.read_model(path)
    path.write_text(json.dumps({"weights": {"dense_log_rank": 1.0}, "bias": 0}), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"fusion.json: field 'weights' lacks dense_gap_z"):
        lf.read_model(path)


def test_the_answer_confidence_field_is_optional_but_checked(tmp_path):
    """A fusion file without `answer` (written before it existed) keeps the box's rank rule; a broken one is named."""
    shipped = json.loads(lf.FUSION_FILE.read_text(encoding="utf-8"))
    path = tmp_path / "fusion.json"
    path.write_text(json.dumps({k: v for k, v in shipped.items() if k != "answer"}), encoding="utf-8")
    assert lf.read_model(path).answer is None
    path.write_text(json.dumps({**shipped, "answer": {"bias": -3, "score": "0.4"}}), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"fusion.json: field 'answer' .* not a number: score, lead"):
        lf.read_model(path)


def test_the_shipped_model_reads_and_trusts_the_vectors_rank():
    model = lf.read_model(lf.FUSION_FILE)
    assert model.weights["dense_log_rank"] > 0 and len(model.sha256) == 64
    # the answer box's confidence grows with the top score and with its lead
    assert model.answer is not None and model.answer.score > 0 and model.answer.lead > 0
