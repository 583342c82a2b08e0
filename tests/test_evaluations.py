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
    settings = Settings.from_env()
    suite = SUITES["practitioner"](settings)
    known = assemble_practitioner.known_documents(suite.documents, pooled, settings.corpus_dirs)
    assert assemble_practitioner.problems(rows, pooled, known) == []
    have = {d.id for d in suite.documents}  # without the law texts, their chapters' judgments are not counted
    assert suite.qrels == {q: {d: g for d, g in judged.items() if d in have}
                           for q, judged in assemble_practitioner.qrels(rows, pooled).items()}
    assert suite.qrels_written == assemble_practitioner.qrels(rows, [])
    on_disk = [json.loads(line) for line in (folder / "corpus.jsonl").read_text(encoding="utf-8").splitlines()]
    bank = [d for d in suite.documents if d.content_type != "lov"]  # the law texts are read where they lie, not copied
    assert on_disk == [assemble_practitioner.corpus_row(d) for d in sorted(bank, key=lambda d: d.id)]


def test_law_chapter_judgments_count_only_with_the_law_texts():
    import dataclasses

    from indexer.laws import is_law_document
    from indexer.settings import Settings

    refids = ["lov/2023-06-09-30", "lov/1967-02-10"]
    assert is_law_document("lov-2023-06-09-30-kap-12", refids) and is_law_document("lov-1967-02-10-kap-iii", refids)
    assert not is_law_document("lov-2023-06-09-30-veileder", refids) and not is_law_document("mobbing", refids)
    judged = {d for q in assemble_practitioner.qrels(
        assemble_practitioner.read_jsonl(assemble_practitioner.FOLDER / "parts", "parts"),
        assemble_practitioner.read_jsonl(assemble_practitioner.FOLDER / "pooled", "pooled")).values() for d in q}
    assert any(d.startswith("lov-") for d in judged)  # the pooled round judged law chapters
    bank_only = SUITES["practitioner"](dataclasses.replace(Settings.from_env(), law_dirs=()))
    assert not [d for q in bank_only.qrels.values() for d in q if d.startswith("lov-")]


def test_a_judged_law_chapter_missing_from_the_loaded_laws_is_an_error(monkeypatch):
    from evaluations import suites
    from indexer.settings import Settings

    settings = Settings.from_env()
    if not settings.law_dirs:
        pytest.skip("no law texts here (../shared): their judgments are not counted, nothing to check")
    real = suites.read_qrels

    def with_a_renumbered_chapter(path):
        judged = real(path)
        next(iter(judged.values()))["lov-2023-06-09-30-kap-99"] = 1
        return judged

    monkeypatch.setattr(suites, "read_qrels", with_a_renumbered_chapter)
    with pytest.raises(SuiteMissing, match="lov-2023-06-09-30-kap-99"):
        suites.practitioner(settings)


def test_the_law_training_questions_are_a_dev_suite_run_only_when_asked(monkeypatch, capsys):
    import dataclasses

    from evaluations import suites
    from indexer.settings import Settings

    settings = Settings.from_env()
    assert "legal-training" in suites.DEV_SUITES and "legal-training" in SUITES
    with pytest.raises(SuiteMissing, match="legal-training suite needs them"):
        suites.legal_training(dataclasses.replace(settings, law_dirs=()))
    if not settings.law_dirs:
        pytest.skip("no law texts here (../shared)")
    suite = suites.legal_training(settings)
    assert len(suite.queries) == 220 and suite.expected_path is None  # tuning figures are never pinned
    assert all(len(j) == 1 and next(iter(j)).startswith("lov/") for j in suite.qrels.values())
    assert {m["kind"] for m in suite.query_meta.values()} == {"explicit", "duty", "practical"}
    ran = []
    monkeypatch.setattr(run, "evaluate_suite", lambda s, *a, **k: ran.append(s.name) or [])
    monkeypatch.setattr(run.report, "render", lambda *a, **k: "")
    monkeypatch.setattr(run.report, "write_files", lambda *a, **k: [])
    monkeypatch.setattr(run.translated, "translation_report", lambda *a, **k: "")
    monkeypatch.setattr(run, "SUITES", {n: (lambda s, n=n: Suite(n, {}, {}, [], [], {}, None))
                                        for n in SUITES})
    run.main(["--no-gate", "--quiet", "--system", "bm25", "--no-generalization"])
    assert "legal-training" not in ran and "paraphrase" in ran


def test_the_adapter_dev_suite_asks_only_about_documents_the_holdout_adapter_never_saw():
    from evaluations import suites
    from evaluations.generalization import holdout_documents
    from indexer.settings import Settings

    assert "adapter-dev" in suites.DEV_SUITES and "adapter-dev" in SUITES
    held = holdout_documents()
    suite = suites.adapter_dev(Settings.from_env())
    assert suite.expected_path is None  # where the model's settings are chosen: never pinned
    judged = {d for j in suite.qrels.values() for d in j}
    assert judged and judged <= held and len(held) == 28
    assert set(suite.groups("group")) == {"editors", "passages", "paraphrase"}
    assert len(suite.groups("group")["paraphrase"]) == 385
    assert not set(suite.queries.values()) & set(suites.read_queries(suites.SUITES_DIR / "practitioner" / "queries.jsonl")[0].values())


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


FUNCTION_WORDS = set("""og i på en et ei å er som det de den til med for av om at har kan skal må vil blir være ikke
ikkje hva kva hvordan korleis når kva jeg eg vi du han hun ho meg seg sin sitt sine deres våre min mitt mine
vår hans hennes etter også andre fordi uten før eller men så da der her fra frå over under bare berre noe noko
ingen alle hele mye mykje mer meir enn hvis viss dersom the and of to a in is it for that what how with my our
their does should can when they this have has from your about blir vert være vere""".split())


def test_paraphrase_questions_share_no_content_word_with_their_target():
    """The suite's rule, exact words: a question's words of four letters or more that are not function
    words never occur in its grade-2 passages (the writer also avoided inflections and compound parts)."""
    import re

    from indexer.settings import Settings

    suite = SUITES["paraphrase"](Settings.from_env(env={}))
    words = lambda t: {w for w in re.findall(r"[^\W\d_]+", t.lower()) if len(w) >= 4} - FUNCTION_WORDS  # noqa: E731
    texts = {d.id: f"{d.title} {d.body}" for d in suite.documents}
    shared = {q: words(suite.queries[q]) & words(texts[d]) for q, judged in suite.qrels.items()
              for d, g in judged.items() if g == 2 and suite.qrels[q]}
    assert len(suite.queries) >= 40 and len(suite.documents) == 56
    assert {q: s for q, s in shared.items() if s} == {}


def test_subcollections_keep_each_questions_judged_documents_and_are_fixed():
    from indexer.settings import Settings

    a = SUITES["practitioner-25"](Settings.from_env(env={}))
    b = SUITES["practitioner-25"](Settings.from_env(env={}))
    assert [sorted(d.id for d in p.documents) for p in a.parts] == [sorted(d.id for d in p.documents) for p in b.parts]
    for part in a.parts:
        ids = {d.id for d in part.documents}
        assert len(ids) == 25
        for qid, judged in part.qrels.items():
            assert set(judged) <= ids and any(g == 2 for g in judged.values())
    assert len(a.qrels) == sum(len(p.qrels) for p in a.parts) and all(":" in q for q in a.qrels)


def test_pooled_results_average_every_part_question():
    parts = [[SystemResult("hybrid", {"ndcg@10": 1.0}, {"ndcg@10": {"q1": 1.0}}, {"q1": {"d": 1.0}})],
             [SystemResult("hybrid", {"ndcg@10": 0.0}, {"ndcg@10": {"q1": 0.0, "q2": 0.5}}, {})]]
    suite = Suite("toy", {}, {"0:q1": {}, "1:q1": {}, "1:q2": {}}, [], [], {})
    pooled = harness.pool_results(parts, suite)
    assert pooled[0].means["ndcg@10"] == pytest.approx((1.0 + 0.0 + 0.5) / 3)
    assert set(pooled[0].per_query["ndcg@10"]) == {"0:q1", "1:q1", "1:q2"}


def test_gate_fails_when_the_hybrid_falls_below_a_single_retriever(tmp_path):
    suite = Suite("toy", {}, {"q": {}}, [], [], {}, tmp_path / "none.json", robustness=True)
    results = [SystemResult("bm25", {"ndcg@10": 0.30}, {}), SystemResult("dense", {"ndcg@10": 0.60}, {}),
               SystemResult("hybrid", {"ndcg@10": 0.58}, {})]
    assert run.gate(suite, results, 0.005) == ["toy: hybrid nDCG@10 is 0.0200 below the better single retriever"]
    results[2] = SystemResult("hybrid", {"ndcg@10": 0.598}, {})
    assert run.gate(suite, results, 0.005) == []  # within the tolerance


def test_a_pinned_robustness_shortfall_may_stay_but_not_grow(tmp_path):
    suite = Suite("toy", {}, {"q": {}}, [], [], {}, tmp_path / "expected.json", robustness=True)
    results = [SystemResult("bm25", {"ndcg@10": 0.30}, {}), SystemResult("dense", {"ndcg@10": 0.60}, {}),
               SystemResult("hybrid", {"ndcg@10": 0.50}, {})]
    run.pin(suite, results, 0.005)
    assert json.loads((tmp_path / "expected.json").read_text())["robustness_margin"] == -0.1
    assert run.gate(suite, results, 0.005) == []
    results[2] = SystemResult("hybrid", {"ndcg@10": 0.45}, {})
    assert run.gate(suite, results, 0.005)[-1] == (
        "toy: hybrid nDCG@10 is 0.1500 below the better single retriever (pinned shortfall -0.1000)")
