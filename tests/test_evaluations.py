"""The evaluation harness: metrics from ranx, the regression gate, and the pinned suites themselves."""

import json

import pytest

from evaluations import assemble_practitioner, harness, run
from evaluations.harness import SystemResult
from evaluations.suites import SUITES, Suite
from evaluations.systems import load_configs
from indexer.errors import SuiteMissing


def _suite(tmp_path, pinned: dict) -> Suite:
    path = tmp_path / "expected.json"
    path.write_text(json.dumps({"tolerance": 0.01, "systems": pinned}), encoding="utf-8")
    return Suite("toy", {"q1": "x"}, {"q1": {"d1": 2}}, [], [], {}, path)


def test_gate_fails_on_a_drop_beyond_tolerance_and_passes_within(tmp_path):
    suite = _suite(tmp_path, {"hybrid": {"ndcg@10": 0.80}})
    ok = SystemResult("hybrid", {"ndcg@10": 0.7950}, {})
    bad = SystemResult("hybrid", {"ndcg@10": 0.7800}, {})
    assert run.gate(suite, [ok], 0.01) == []
    assert run.gate(suite, [bad], 0.01) == ["toy/hybrid ndcg@10: 0.7800 < pinned 0.8000 − 0.01"]


def test_gate_allows_one_question_on_per_question_counts(tmp_path):
    path = tmp_path / "expected.json"
    path.write_text(json.dumps({"tolerance": 0.005, "systems": {"hybrid": {"hit_rate@3-l2": 0.80}}}), encoding="utf-8")
    suite = Suite("toy", {}, {f"q{i}": {"d": 2} for i in range(100)}, [], [], {}, path)
    one_flip = SystemResult("hybrid", {"hit_rate@3-l2": 0.80 - 1 / 100}, {})
    two_flips = SystemResult("hybrid", {"hit_rate@3-l2": 0.80 - 2 / 100}, {})
    assert run.gate(suite, [one_flip], 0.005) == []
    assert run.gate(suite, [two_flips], 0.005) == ["toy/hybrid hit_rate@3-l2: 0.7800 < pinned 0.8000 − 0.01"]


def test_config_file_systems_are_validated(tmp_path):
    cfg = tmp_path / "c.json"
    cfg.write_text('{"rrf-equal": {"fusion": "rrf", "bm25_weight": 1.0}}', encoding="utf-8")
    assert load_configs(cfg)["rrf-equal"] == {"fusion": "rrf", "bm25_weight": 1.0}
    cfg.write_text('{"x": {"fusion_wieght": 1}}', encoding="utf-8")
    with pytest.raises(Exception, match="system 'x': unknown setting"):
        load_configs(cfg)


@pytest.mark.slow
@pytest.mark.parametrize("suite_name", ["practitioner", "legal", "norquad-val"])
def test_pinned_scores_hold(suite_name, tmp_path, monkeypatch, capsys):
    """The regression gate CI runs: every system's scores stay within tolerance of expected.json."""
    monkeypatch.setattr(harness, "EVAL_DIR", tmp_path / "eval")
    from indexer.settings import Settings

    try:
        SUITES[suite_name](Settings.from_env(env={}))
    except SuiteMissing as exc:
        pytest.skip(str(exc))
    code = run.main(["--suite", suite_name, "--quiet", "--out", str(tmp_path / "results")])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "| hybrid |" in out.out and list((tmp_path / "results").glob("*.png"))
    if suite_name == "legal":
        assert "Right section in the top 3 (target ≥ 90%)" in out.out
    if suite_name == "practitioner":
        assert "| hybrid (24) |" in out.out  # the nynorsk questions scored again in bokmål
        assert "| typo (21) |" in out.out and "written judgments only" in out.out


def test_translations_must_be_nynorsk_questions_of_the_suite(tmp_path, monkeypatch):
    from evaluations import translated

    suite = Suite("practitioner", {"q1": "korleis …", "q2": "hvordan …"}, {"q1": {"d": 2}, "q2": {"d": 2}}, [], [],
                  {"q1": {"group": "nynorsk"}, "q2": {"group": "bokmal"}})
    good = tmp_path / "good.jsonl"
    good.write_text('{"_id": "q1", "text": "hvordan …"}\n', encoding="utf-8")
    monkeypatch.setattr(translated, "TRANSLATIONS", good)
    assert translated.translations(suite) == {"q1": "hvordan …"}
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"_id": "q2", "text": "hvordan …"}\n', encoding="utf-8")
    monkeypatch.setattr(translated, "TRANSLATIONS", bad)
    with pytest.raises(SuiteMissing, match=r"bad\.jsonl: not nynorsk questions of the suite: q2"):
        translated.translations(suite)


def test_pooled_judgments_only_add_and_name_their_line():
    rows = [("parts/a.jsonl:1", {"_id": "q1", "judgments": {"d1": 2}}),
            ("parts/a.jsonl:2", {"_id": "q2", "judgments": {}})]
    ok = [("pooled/p.jsonl:1", {"qid": "q1", "doc": "d2", "grade": 1}),
          ("pooled/p.jsonl:2", {"qid": "q2", "doc": "d1", "grade": 0})]
    assert assemble_practitioner.problems(rows, ok, {"d1", "d2"}) == []
    assert assemble_practitioner.qrels(rows, ok) == {"q1": {"d1": 2, "d2": 1}, "q2": {}}
    bad = [("pooled/p.jsonl:1", {"qid": "q1", "doc": "d1", "grade": 1}),   # overrides a written judgment
           ("pooled/p.jsonl:2", {"qid": "q9", "doc": "d1", "grade": 1}),
           ("pooled/p.jsonl:3", {"qid": "q2", "doc": "d7", "grade": 1}),
           ("pooled/p.jsonl:4", {"qid": "q2", "doc": "d2", "grade": 3}),
           ("pooled/p.jsonl:5", {"qid": "q2", "doc": "d2", "grade": 1})]
    found = assemble_practitioner.problems(rows, bad, {"d1", "d2"})
    assert [f.split(":")[1] for f in found] == ["1", "2", "3", "4", "5"]
    assert "already judges 'd1'" in found[0] and "unknown query" in found[1] and "unknown document" in found[2]
    assert "not 0, 1 or 2" in found[3] and "judged twice" in found[4]


def test_practitioner_beir_folder_is_assembled_from_parts_pooled_and_corpus():
    """queries/qrels/corpus files are what the assembler makes of parts/, pooled/ and corpus/ today: an edited
    document or judgment without `python -m evaluations.assemble_practitioner` fails here."""
    from indexer.settings import Settings

    folder = assemble_practitioner.FOLDER
    rows = assemble_practitioner.read_jsonl(folder / "parts", "parts")
    pooled = assemble_practitioner.read_jsonl(folder / "pooled", "pooled")
    suite = SUITES["practitioner"](Settings.from_env())
    assert assemble_practitioner.problems(rows, pooled, {d.id for d in suite.documents}) == []
    assert suite.qrels == assemble_practitioner.qrels(rows, pooled)
    assert suite.qrels_written == assemble_practitioner.qrels(rows, [])
    on_disk = [json.loads(line) for line in (folder / "corpus.jsonl").read_text(encoding="utf-8").splitlines()]
    bank = [d for d in suite.documents if d.content_type != "lov"]  # the law texts are read where they lie, not copied
    assert on_disk == [assemble_practitioner.corpus_row(d) for d in sorted(bank, key=lambda d: d.id)]


def test_pooled_grade_is_the_lower_of_two_readers_and_written_pairs_stay_controls():
    from evaluations import pooling

    a = {("q1", "d1"): {"grade": 2}, ("q1", "d2"): {"grade": 2}, ("q1", "d3"): {"grade": 0},
         ("q1", "d4"): {"grade": 1}, ("q1", "d5"): {"grade": 1}}
    b = {("q1", "d1"): {"grade": 1}, ("q1", "d2"): {"grade": 2}, ("q1", "d4"): {"grade": 1}}
    records, controls, ab = pooling.combine(a, b, {"q1": {"d4": 2}}, {("q1", "d5")})
    assert {r["doc"]: r["grade"] for r in records} == {"d1": 1, "d2": 2, "d3": 0}  # d4 written, d5 pooled before
    assert controls == [(2, 1)] and sorted(ab) == [(1, 1), (2, 1), (2, 2)]
    with pytest.raises(SystemExit, match="reader B has not graded q1 / d9"):
        pooling.combine({("q1", "d9"): {"grade": 1}}, {}, {}, set(), "second/judge-B.jsonl")
    assert pooling.kappa([(0, 0), (1, 1), (2, 2)]) == 1.0
    assert pooling.kappa([(0, 1), (1, 0)]) < 0
