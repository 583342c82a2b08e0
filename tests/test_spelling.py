"""«Mente du»: the real Hunspell dictionaries, a small bank vocabulary, and the served suggestion."""

import pytest

from indexer.errors import DictionaryMissing
from search_api import spelling

BANK = {w: 20 for w in ("gjør", "på", "møte", "jeg", "hva", "kutter", "seg", "snakke", "med", "elev", "mobbing",
                        "nett", "barn", "samtale", "metode", "friminuttet", "vape", "do", "eleven", "små")}
BY_INITIAL: dict[str, tuple[str, ...]] = {}
for _w in BANK:
    BY_INITIAL[_w[:1]] = BY_INITIAL.get(_w[:1], ()) + (_w,)


@pytest.fixture(scope="module")
def known():
    return spelling.speller().known


def fix(text, known):
    return spelling.corrected(text, BANK, BY_INITIAL, known)


def test_a_question_typed_without_aeoa_gets_them_back(known):
    assert fix("hva gjor jeg pa mote", known) == "hva gjør jeg på møte"
    assert fix("Pa do", known) == "På do"  # a capital stays
    # the same words in a question that has æøå elsewhere are what the writer meant
    assert fix("mote på do", known) is None


def test_misspelt_words_get_the_banks_word(known):
    assert fix("hvordan snake med elev som kuter seg", known) == "hvordan snakke med elev som kutter seg"
    assert fix("mobing pa nett", known) == "mobbing på nett"
    assert fix("frimintuttet", known) == "friminuttet"


def test_correct_words_the_bank_does_not_use_are_left_alone(known):
    # nynorsk, inflections, English words in a Norwegian question, compounds of the bank's words, a verb
    for text in ("ein elev vert utestengd", "to elevar slåst", "gaming og grooming", "barnesamtale metode",
                 "eleven vaper på do", "lesevansker"):
        assert fix(text, known) is None, text


def test_missing_dictionaries_are_named(tmp_path):
    with pytest.raises(DictionaryMissing, match=r"nb_NO\.dic"):
        spelling.Speller(tmp_path)


@pytest.mark.parametrize("q, expected", [
    ("mobing pa nett", "mobbing på nett"),
    ("hvordan snake med barn om vanskelige ting", "hvordan snakke med barn om vanskelige ting"),
    ("ein elev vert utestengd frå gruppechatten til klassen", None),
    ("mistenker at en voksen driver grooming på gaming-chat", None),
    ("student seems anxious and withdrawn", None),  # English: no suggestion at all
])
def test_served_suggestion(client, q, expected):
    assert client.get("/api/search", params={"q": q}).json()["did_you_mean"] == expected
