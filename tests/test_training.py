"""`make train`'s command line. An end-to-end run is not a test: mining the hard negatives embeds the whole bank
and about 3,900 questions with the untrained model first (over 10 minutes on 2 busy cores); the adapter file
and its loading are tested in test_adapter.py, the fusion in test_learned_fusion.py."""

from __future__ import annotations

import dataclasses

import pytest

from training.__main__ import main as train_main, ordered, parse, recipe_args


@pytest.fixture(scope="module")
def bank_chunks():
    """{(document id, anchor): chunk} of the bank as the indexer chunks it: what training questions are judged to."""
    from indexer.build import chunk_params
    from indexer.chunk import chunk_document
    from indexer.settings import Settings
    from training.examples import bank_documents

    settings = Settings.from_env()
    bank, _ = bank_documents(settings)
    return {(d.id, c.anchor): c for d in bank for c in chunk_document(d, chunk_params(settings))}


def test_an_unknown_stage_is_refused_with_the_valid_ones(capsys):
    with pytest.raises(SystemExit):
        train_main(["--stage", "bogus"])
    assert "invalid choice: 'bogus'" in capsys.readouterr().err


@pytest.mark.parametrize("option", ["--reworded", "--misspelt"])
@pytest.mark.parametrize("value", ["1.5", "-0.2", "half"])
def test_a_share_outside_0_to_1_is_refused_naming_the_option(capsys, option, value):
    with pytest.raises(SystemExit):
        parse([option, value])
    assert f"argument {option}: '{value}' is not a share from 0 to 1" in capsys.readouterr().err


def test_a_child_stage_is_given_the_whole_recipe():
    """The holdout and served adapters train side by side in child processes: each must get the recipe the
    parent was asked for, not the defaults (a dropped option would train a different model silently)."""
    _, config = parse(["--seed", "7", "--epochs", "1.5", "--batch-size", "16", "--learning-rate", "3e-4",
                       "--rank", "8", "--alpha", "24", "--first-layer", "6", "--max-tokens", "192",
                       "--no-norquad", "--fusion-questions", "--misspelt", "0.3", "--reworded", "0.5", "--limit", "40",
                       "--directions", "doc_to_doc,query_to_doc", "--hardness", "5"])
    assert config.directions == ("query_to_doc", "doc_to_doc") and config.hardness == 5 and config.reworded == 0.5
    _, child = parse(["--child", "--stage", "adapter", *recipe_args(config)])
    assert child == config
    assert parse(recipe_args(parse([])[1]))[1] == parse([])[1]
    odd = dataclasses.replace(config, lora_dropout=0.2, warmup_ratio=0.3)  # fields with no option of their own
    assert parse(recipe_args(odd))[1] == odd


def test_stages_run_in_the_order_that_feeds_each_the_one_before():
    """`answer` reads the fusion's file and the holdout adapter; `fusion` fits it too, so it is not run twice."""
    assert ordered(["adapter", "answer", "holdout"]) == ["holdout", "answer", "adapter"]
    assert ordered(["answer", "fusion"]) == ["fusion"]
    assert parse(["--stage", "answer"])[0].stage == ["answer"]


def test_the_answer_block_joins_the_fusion_file_and_reads_back(tmp_path):
    import json

    import numpy as np

    from indexer.errors import SoveiError
    from search_api import learned_fusion
    from training import answer

    fusion_file = tmp_path / "fusion.json"
    shipped = json.loads(learned_fusion.FUSION_FILE.read_text(encoding="utf-8"))
    fusion_file.write_text(json.dumps({k: v for k, v in shipped.items() if k != "answer"}), encoding="utf-8")
    # a confident top hit (high score, clear lead) is right, a close call is wrong
    x = np.array([[6.0, 4.0], [5.0, 3.0], [1.0, 0.1], [0.5, 0.2], [6.5, 3.5], [0.8, 0.0]])
    y = np.array([1, 1, 0, 0, 1, 0])
    block = answer.weights(x, y)
    assert block["score"] > 0 and block["lead"] > 0
    answer.write(fusion_file, {**block, "card": {"questions": 6}})
    model = learned_fusion.read_model(fusion_file)
    assert model.weights == learned_fusion.read_model(learned_fusion.FUSION_FILE).weights  # the fusion as it was
    assert (model.answer.bias, model.answer.score, model.answer.lead) == (block["bias"], block["score"], block["lead"])
    with pytest.raises(SoveiError, match="right and wrong: of 6 adapter-dev questions 6 had their own document"):
        answer.weights(x, np.ones(6, dtype=int))


@pytest.mark.parametrize("directions", ["doc_to_query", "query_to_doc,doc_to_docs", ""])
def test_the_loss_directions_must_be_known_and_include_query_to_doc(directions, capsys):
    with pytest.raises(SystemExit):
        parse(["--directions", directions])
    assert "--directions" in capsys.readouterr().err


def test_a_malformed_law_question_names_the_file_line_and_fields(tmp_path):
    from training.examples import TrainingDataError, read_law_questions

    path = tmp_path / "law-questions.jsonl"
    path.write_text('{"law": "lov/2023-06-09-30", "section": "12-4", "question": "Hva er aktivitetsplikten?"}\n'
                    '{"law": "lov/2023-06-09-30", "question": "Uten paragraf?"}\n', encoding="utf-8")
    with pytest.raises(TrainingDataError, match=r"law-questions\.jsonl:2: needs law .*section and question"):
        read_law_questions(path)


def test_the_shipped_training_questions_are_well_formed_and_judged_to_existing_passages(bank_chunks):
    """Every paraphrase and reworded question names a passage of its document by anchor; every law question a section
    (the fusion and the adapter skip what they cannot place, so a typo would be lost silently)."""
    from indexer.settings import Settings
    from training.examples import read_law_questions, read_passage_questions, PARAPHRASE_QUESTIONS, REWORDED_QUESTIONS

    settings = Settings.from_env()
    for path in (PARAPHRASE_QUESTIONS, REWORDED_QUESTIONS):
        rows = read_passage_questions(path)
        assert rows and all((r["doc_id"], r["anchor"]) in bank_chunks for r in rows), path.name
    # the reworded questions are the training documents', the fusion's paraphrase questions the held-out ones'
    reworded = {r["doc_id"] for r in read_passage_questions(REWORDED_QUESTIONS)}
    assert not reworded & {r["doc_id"] for r in read_passage_questions(PARAPHRASE_QUESTIONS)}
    laws = read_law_questions()
    assert laws and all(r["law"].startswith("lov/") and r["section"].strip() for r in laws)
    if settings.law_dirs:  # without ../shared the sections cannot be checked (and the law questions are not used)
        from indexer.laws import section_key
        from indexer.load import load_corpus
        from indexer.themes import find_themes_file, load_themes

        themes = {t.id for t in load_themes(find_themes_file(settings.corpus_dirs))}
        loaded = load_corpus(settings.corpus_dirs, themes, law_dirs=settings.law_dirs)
        have = {(law.refid, section_key(s.number)) for law in loaded.laws for s in law.sections}
        missing = [r for r in laws if (r["law"], section_key(r["section"])) not in have]
        assert not missing, missing[:3]


def test_a_passage_as_its_own_document_embeds_the_same_text():
    """The fusion's collections of short texts (training/fusion.passage_documents) must show the model the
    passage it would see in the bank, title and section included."""
    from indexer.build import chunk_params
    from indexer.chunk import chunk_document, passage_text
    from indexer.settings import Settings
    from training.examples import bank_documents, passage_hash
    from training.fusion import passage_documents

    settings = Settings.from_env()
    bank, _ = bank_documents(settings)
    docs, by_anchor = passage_documents(settings, bank[:3])
    params = chunk_params(settings)
    for d in bank[:3]:
        for c in chunk_document(d, params):
            alone = docs[by_anchor[(d.id, c.anchor)]]
            assert alone.id == passage_hash(c.text)
            (again,) = chunk_document(alone, params)
            assert passage_text(alone, again) == passage_text(d, c)



def _damerau(a: str, b: str) -> int:
    d = [[max(i, j) if not i * j else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[-1][-1]


def test_a_misspelt_question_differs_by_a_few_typing_mistakes_and_repeats_with_its_seed():
    import random

    from indexer.settings import Settings
    from training.examples import bank_documents
    from training.misspell import misspell

    bank, _ = bank_documents(Settings.from_env())
    questions = [q for d in bank for q in d.questions][:300]
    first = [misspell(q, random.Random(f"t{i}")) for i, q in enumerate(questions)]
    assert first == [misspell(q, random.Random(f"t{i}")) for i, q in enumerate(questions)]
    assert misspell("Hei?", random.Random(0)) in ("Hei?", "hei")  # nothing to misspell: no invented mistake
    for q, m in zip(questions, first):
        assert m != q
        # at most two mistakes; æøå typed as two letters each, and the lower case and a dropped «?» come on top
        plain = q.lower().rstrip(" ?")
        folded = sum(q.count(c) for c in "æøåÆØÅ")
        assert _damerau(plain, m.lower().rstrip(" ?")) <= 2 + 2 * folded, (q, m)
    kinds = {"æøå": any(("æ" in q or "ø" in q or "å" in q) and not any(c in m for c in "æøå")
                        for q, m in zip(questions, first)),
             "split": any(len(m.split()) > len(q.split()) for q, m in zip(questions, first)),
             "shorter": any(len(m.rstrip(" ?")) < len(q.rstrip(" ?")) for q, m in zip(questions, first))}
    assert all(kinds.values()), kinds


def test_later_epochs_see_a_share_of_the_bank_questions_misspelt_in_the_first_epochs_order():
    """The first epoch trains on the questions as written; each later one on its own draw of misspelt ones,
    batched exactly as the plain ones would have been (so the share is the only change to the recipe)."""
    from datasets import Dataset

    from training.batches import LengthBucketBatchSampler
    from training.examples import Example
    from training.fit import TrainConfig, misspelt_version

    examples = [Example(f"Hva gjør skolen ved mobbing nummer {i}?", f"passasje {i} " * (i % 9 + 1), f"neg {i}",
                        "editors", f"d{i}", "both") for i in range(400)]
    config = TrainConfig(misspelt=0.25)
    versions = [misspelt_version(examples, config, e) for e in range(2)]
    assert versions[0] == examples
    changed = sum(a.query != b.query for a, b in zip(*versions))
    assert 60 < changed < 140
    assert misspelt_version(examples, TrainConfig(), 1) == examples

    def rows(version):
        return {"anchor": [e.query for e in version], "positive": [e.positive for e in version]}

    plain = LengthBucketBatchSampler(Dataset.from_dict(rows(examples)), 32, False, seed=5)
    both = Dataset.from_dict({k: rows(versions[0])[k] + rows(versions[1])[k] for k in ("anchor", "positive")})
    two = LengthBucketBatchSampler.with_passes(2)(both, 32, False, seed=5)
    for epoch in (0, 1):
        plain.set_epoch(epoch)
        two.set_epoch(epoch)
        assert [[i + 400 * epoch for i in b] for b in plain] == list(two)
    with pytest.raises(ValueError, match="do not hold 2 versions"):
        LengthBucketBatchSampler.with_passes(2)(Dataset.from_dict(rows(examples[:399])), 32, False)


def test_the_reworded_questions_avoid_their_passages_words(bank_chunks):
    """The reworded questions are worth training on because they do not repeat their passage: a question that does
    (edited in, or a passage rewritten to use the question's words) is named."""
    from training.examples import REWORDED_QUESTIONS, passage_hash, read_passage_questions, shared_words

    checked, clashes = 0, []
    for row in read_passage_questions(REWORDED_QUESTIONS):
        c = bank_chunks.get((row["doc_id"], row["anchor"]))
        if c is None or passage_hash(c.text) != row["passage"]:
            continue  # a passage edited since: training falls back to choosing within the document
        checked += 1
        if shared := shared_words(row["question"], c.text + " " + " ".join(c.heading_path)):
            clashes.append((row["doc_id"], row["anchor"], shared))
    assert checked > 700 and not clashes, clashes[:3]


def test_shared_words_are_equal_words_or_a_shared_five_letter_start():
    from training.examples import shared_words

    assert shared_words("Hvem kan mobbesaka gå til?", "Mobberen i skolen") == ["mobbesaka"]
    assert shared_words("What should the school do?", "the school must act") == ["school"]
    assert shared_words("Hva gjør vi med en elev som skulker?", "Fravær i skolen") == []
