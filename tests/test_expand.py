"""Query planning: the nynorsk table, on the real corpus index."""

import pytest

from indexer import language
from search_api.expand import plan


@pytest.fixture(scope="module")
def snap(corpus_index):
    from search_api.index_store import IndexStore

    return IndexStore(corpus_index.index_dir).get()


def test_nynorsk_words_add_their_bokmal_stems(snap):
    p = plan(snap, "korleis kan skulen samarbeide med føresette om fråvær?")
    added = {t.text for t in p.terms if t.kind == "nynorsk"}
    # «skulen» → skolen, «føresette» → foresatte, «fråvær» → fravær, stemmed as the index stems them
    assert {"skol", "foresatt", "fravær"} <= added
    assert all(t.weight < 1 for t in p.terms if t.kind == "nynorsk")


def test_bokmal_questions_are_left_alone(snap):
    p = plan(snap, "hvordan kan skolen samarbeide med foresatte om fravær?")
    assert [t for t in p.terms if t.kind == "nynorsk"] == []
    assert language.bokmal_words("hvordan kan skolen samarbeide med foresatte") == []


@pytest.mark.parametrize("path, load, text, error", [
    ("NYNORSK_TABLE", "nynorsk_table", "# comment\nikkje\tikke\nskulen skolen\n",
     r"nynorsk_bokmal\.tsv:3: expected 'nynorsk<TAB>bokmål'"),
    ("ABBREVIATIONS", "abbreviation_table", "sfo\tskolefritidsordning\nSFO\tsomething\n",
     r"abbreviations\.tsv:2: 'SFO' is listed already on line 1"),
])
def test_a_broken_table_line_is_named(tmp_path, monkeypatch, path, load, text, error):
    bad = tmp_path / getattr(language, path).name
    bad.write_text(text, encoding="utf-8")
    monkeypatch.setattr(language, path, bad)
    getattr(language, load).cache_clear()
    try:
        with pytest.raises(ValueError, match=error):
            getattr(language, load)()
    finally:
        getattr(language, load).cache_clear()


def test_english_questions_reach_the_thesaurus_through_english_stems(snap):
    # themes.yml lists «bullying», «self-harm», «cutting»: an English question inflects them
    assert plan(snap, "what should I do if a pupil is being bullied?").themes[:1] == ["mobbeforebygging"]
    assert plan(snap, "what should I do when a pupil cuts herself?").themes[:1] == ["selvskading"]
    # Norwegian questions keep the Norwegian stems: «mobbet» is not an English word
    assert plan(snap, "eleven blir mobbet").themes[:1] == ["mobbeforebygging"]


def test_english_questions_search_bm25_through_their_bokmal_translation(snap):
    p = plan(snap, "Can the county governor look at a complaint about bullying?")
    exact = set(p.exact)
    # english_bokmal.tsv: «county governor» → statsforvalteren, «bullying» → mobbing, stemmed as the index is
    assert {"statsforvalter", "mobbing", "klag"} <= exact and "county" not in exact
    assert p.language == "en"
    # «can», «the», «at», «about» are filler or stop words; «look» is the one subject word left untranslated
    assert language.translated_words("Can the county governor look at a complaint about bullying?")[1] == 0.8
    whole = plan(snap, "the county governor and a complaint about bullying")  # the same words, all translated
    assert whole.known > 0 and p.known == pytest.approx(0.8 * whole.known)
    nothing = plan(snap, "what about the weather in Bergen tomorrow?")
    assert nothing.exact == [] and nothing.known == 0


def test_the_english_table_names_a_broken_or_repeated_line(tmp_path, monkeypatch):
    for text, error in (("# c\nbullying\tmobbing\nbully mobbing\n", r"english_bokmal\.tsv:3: expected"),
                        ("bullying\tmobbing\nbullied\tmobbet\n", r"english_bokmal\.tsv:2: 'bullied' is listed twice"),
                        ("the\tden\n", r"english_bokmal\.tsv:1: 'the' has no English word")):
        bad = tmp_path / "english_bokmal.tsv"
        bad.write_text(text, encoding="utf-8")
        monkeypatch.setattr(language, "ENGLISH_TABLE", bad)
        language.english_table.cache_clear()
        try:
            with pytest.raises(ValueError, match=error):
                language.english_table()
        finally:
            language.english_table.cache_clear()


def test_the_vectors_embed_an_english_question_with_its_translation():
    q = "Can the county governor look at a complaint about bullying?"
    assert language.dense_query(q) == q + " (mobbing mobber mobbet klage klagerett statsforvalteren fylke fylkeskommunen)"
    for as_typed in ("kan statsforvalteren se på en klage om mobbing?", "what about the weather in Bergen tomorrow?"):
        assert language.dense_query(as_typed) == as_typed  # Norwegian, or nothing the table translates


def test_the_acute_check_reads_an_english_question_as_written(snap):
    from search_api.expand import is_acute

    q = "tips for cutting down screen time in class"
    assert "selvskading" in language.translated_words(q)[0]  # the table's «cutting» has that sense too
    assert not is_acute(snap, q, plan(snap, q))
    assert is_acute(snap, "a pupil told me about self-harm", plan(snap, "a pupil told me about self-harm"))


def test_an_abbreviation_adds_the_words_of_its_full_form(snap):
    """«SFO» is «skolefritidsordning» in opplæringslova and in guides that write the name out."""
    p = plan(snap, "hvilke elever har rett til SFO?")
    added = {t.text: t.weight for t in p.terms if t.kind == "abbreviation"}
    assert "skolefritidsordning" in added and all(w < 1 for w in added.values())
    assert language.full_form_words("hva gjør PPT?") == ["pedagogisk-psykologisk", "pp"]
    assert language.full_form_words("spørsmål til sofa") == []  # whole words only
    # an English question's too: BM25 searches its bokmål words, and the English table does not know «IOP»
    english = plan(snap, "what is an IOP?")
    assert "opplæringsplan" in {t.text for t in english.terms if t.kind == "abbreviation"}
