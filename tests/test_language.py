"""Passage language and language centring of vectors."""

import numpy as np
import pytest

from indexer.language import MIN_ROWS, center_by_language, passage_language


@pytest.mark.parametrize("text, lang", [
    ("The review found that school-based programmes reduced symptoms of anxiety in the short term.", "en"),
    ("Eleven fortalte at hun ikke ville hjem etter skolen, og det er viktig å lytte til henne.", "nb"),
    ("Eleven fortalde at ho ikkje ville heim etter skulen, og det er viktig å lytte til henne.", "nn"),
])
def test_passage_language(text, lang):
    assert passage_language(text) == lang


def test_centring_moves_each_language_mean_to_the_common_mean():
    rng = np.random.default_rng(1)
    topic = rng.normal(size=(MIN_ROWS * 3, 8))
    offset = {"nb": np.eye(8)[0] * 3, "en": np.eye(8)[1] * 3}
    langs = ["nb"] * (MIN_ROWS * 2) + ["en"] * MIN_ROWS
    raw = topic + np.stack([offset[lang] for lang in langs])
    raw = (raw / np.linalg.norm(raw, axis=1, keepdims=True)).astype(np.float32)
    out, summary = center_by_language(raw, langs)
    assert summary["passages"] == {"en": MIN_ROWS, "nb": MIN_ROWS * 2} and summary["centred"] == ["en", "nb"]
    assert np.allclose(np.linalg.norm(out, axis=1), 1, atol=1e-5)
    gap = lambda v: np.linalg.norm(v[np.array(langs) == "nb"].mean(0) - v[np.array(langs) == "en"].mean(0))  # noqa: E731
    assert gap(out) < gap(raw) / 4  # the language offset is (mostly) gone


def test_small_languages_and_single_language_corpora_are_left_alone():
    rng = np.random.default_rng(2)
    raw = rng.normal(size=(MIN_ROWS + 3, 4)).astype(np.float32)
    raw /= np.linalg.norm(raw, axis=1, keepdims=True)
    out, summary = center_by_language(raw, ["nb"] * MIN_ROWS + ["en"] * 3)
    assert summary["centred"] == ["nb"]
    assert np.allclose(out[-3:], raw[-3:], atol=1e-6)  # too few English rows to estimate their mean
    same, _ = center_by_language(raw, ["nb"] * len(raw))
    assert np.array_equal(same, raw)


def test_english_questions_are_told_from_short_norwegian_ones():
    def is_english_question(text):
        return passage_language(text) == "en"

    assert is_english_question("child tells me she cuts herself, what should I do?")
    assert is_english_question("how to help a lonely pupil make friends")
    # «by» and «at» are Norwegian words too: these are Norwegian questions
    assert not is_english_question("Fra hvilken by kommer Einar Johan Rasmussen?")
    assert not is_english_question("Hvor ble William Hastings satt etter at han ble arrestert?")
    assert not is_english_question("hva gjør jeg når en elev sier what the hell til læreren?")
    assert not is_english_question("BUP")


def test_law_texts_do_not_move_the_guides():
    """The language means come from the reference rows (the bank's own writing): adding rows of another genre
    (the law texts, mostly nynorsk) leaves the guides' vectors as they were, and the added rows get their
    language's shift."""
    rng = np.random.default_rng(3)
    offset = {"nb": np.eye(8)[0] * 3, "nn": np.eye(8)[1] * 3}
    guides = ["nb"] * (MIN_ROWS * 2) + ["nn"] * MIN_ROWS
    laws = ["nn"] * (MIN_ROWS * 4)
    genre = np.eye(8)[2] * 4  # the legal register: far from the guides whatever their language
    raw_guides = rng.normal(size=(len(guides), 8)) + np.stack([offset[lang] for lang in guides])
    raw_laws = rng.normal(size=(len(laws), 8)) + offset["nn"] + genre
    raw = np.vstack([raw_guides, raw_laws])
    raw = (raw / np.linalg.norm(raw, axis=1, keepdims=True)).astype(np.float32)
    alone, _ = center_by_language(raw[:len(guides)], guides)
    reference = np.array([True] * len(guides) + [False] * len(laws))
    out, summary = center_by_language(raw, guides + laws, reference)
    assert np.allclose(out[:len(guides)], alone, atol=1e-6)
    assert summary["estimated_from"] == {"nb": MIN_ROWS * 2, "nn": MIN_ROWS}
    assert summary["passages"] == {"nb": MIN_ROWS * 2, "nn": MIN_ROWS * 5}
    unweighted, _ = center_by_language(raw, guides + laws)  # the old way: the laws weigh in the nynorsk mean
    assert not np.allclose(unweighted[:len(guides)], alone, atol=1e-3)
    # with no reference rows (a collection of law texts only) every row estimates, as without a reference
    no_reference, s = center_by_language(raw, guides + laws, np.zeros(len(raw), dtype=bool))
    assert np.array_equal(no_reference, unweighted) and "estimated_from" not in s
