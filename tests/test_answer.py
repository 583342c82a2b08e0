"""The answer box: quoted word for word, cited, and abstaining when the search is unsure of its top hit."""

from dataclasses import replace

import pytest

from search_api.answer import NO_ANSWER, POLICY, Confidence, build_answer, evidence, is_vague, policy_for
from search_api.hits import Hit

QUESTIONS = ["hva gjør jeg når en elev forteller at hun blir mobbet?", "eleven kutter seg", "snus ungdomsskole",
             "tilrettelegging for elev med ADHD", "hva er aktivitetsplikten?", "hjelpetelefon for barn og unge",
             "korleis snakke med føresette om fråvær", "foreldremøte om skjermbruk",
             # questions that ask what something is: the kind the box answers most often (the test needs one)
             "hva er skolevegring?", "hva er Statens barnehus?", "hva er et ansvarsgruppemøte?"]


def test_answer_sentences_are_quoted_verbatim_with_their_citation(client):
    answered = 0
    for q in QUESTIONS:
        data = client.get("/api/search", params={"q": q, "k": 10}).json()
        answer, hits = data["answer"], {h["doc_id"]: (i + 1, h) for i, h in enumerate(data["hits"])}
        if not answer["answered"]:
            assert answer["message"] == NO_ANSWER and answer["sentences"] == []
            continue
        answered += 1
        assert 1 <= len(answer["sentences"]) <= 3
        for s in answer["sentences"]:
            position, hit = hits[s["doc_id"]]
            assert s["hit"] == position <= 3 and s["citation"] == hit["citation"] and s["anchor"] == hit["anchor"]
            # word for word from the cited passage: the document page shows that passage
            doc = client.get(f"/api/documents/{s['doc_id']}").json()
            passage = next(c["text"] for c in doc["passages"] if c["anchor"] == s["anchor"])
            assert s["text"] in passage
    # neither always silent nor always answering
    assert 1 <= answered < len(QUESTIONS)


def test_answer_is_only_on_the_first_page(client):
    data = client.get("/api/search", params={"q": QUESTIONS[0], "k": 5, "offset": 5}).json()
    assert data["answer"] is None


def _hit(rank_bm25, rank_vec, score=1.0, doc="d"):
    return Hit(chunk_id=0, doc_id=doc, score=score, bm25_rank=rank_bm25, vector_rank=rank_vec, themes=["selvskading"])


def test_evidence_needs_both_retrievers_near_the_top():
    assert evidence([_hit(1, 2), _hit(3, 1, 0.5, "e")])
    assert not evidence([_hit(1, POLICY.max_rank + 1)])  # dense does not agree
    assert not evidence([_hit(None, 1)])  # BM25 never found it
    assert not evidence([])
    strict = replace(POLICY, min_margin=0.2)
    assert evidence([_hit(1, 1, 1.0), _hit(2, 2, 0.7, "e")], strict)
    assert not evidence([_hit(1, 1, 1.0), _hit(2, 2, 0.9, "e")], strict)  # (1.0 - 0.9) / 1.0 < 0.2


def test_a_logit_margin_separates_probabilities_near_one():
    """With the learned fusion both top scores are often near 1: a 0.99 against a 0.98 is no lead as a share
    (1 %), but is one on the logit scale (4.60 against 3.89)."""
    relative = replace(POLICY, min_margin=0.05)
    logit = replace(POLICY, min_margin=0.5, margin="logit")
    close = [_hit(1, 1, 0.99), _hit(2, 2, 0.98, "e")]
    assert not evidence(close, relative) and evidence(close, logit)
    assert not evidence([_hit(1, 1, 0.99), _hit(2, 2, 0.985, "e")], logit)  # 4.60 against 4.19


def test_the_confidence_model_reads_the_top_score_and_its_lead_not_the_ranks():
    """p = σ(bias + score · logit(top) + lead · (logit(top) − logit(second))): a hand-made model, so the arithmetic
    is checked, not the fitted weights."""
    import math

    conf = Confidence(bias=-3.0, score=0.5, lead=0.5)
    policy = replace(policy_for(conf), min_confidence=0.4)
    clear = [_hit(40, 40, 0.99), _hit(1, 1, 0.5, "e")]  # logit 4.6, lead 4.6: σ(1.6) = 0.83
    assert conf.of(clear) == pytest.approx(1 / (1 + math.exp(-(-3 + 0.5 * math.log(99) * 2))))
    assert evidence(clear, policy)  # far down both lists, and still answered: the ranks are not asked
    close = [_hit(1, 1, 0.99), _hit(2, 2, 0.98, "e")]  # lead 0.70: σ(-0.35) = 0.413, just over 0.40
    assert evidence(close, policy) and not evidence(close, replace(policy, min_confidence=0.42))
    assert not evidence([_hit(1, 1, 0.9), _hit(2, 2, 0.89, "e")], policy)  # σ(-1.85) = 0.14
    # a hit with nothing after it (a filter left one result) leads by 0: σ(-3 + 2.3) = 0.33
    assert not evidence([_hit(None, None, 0.99)], policy)
    assert policy_for(None) is POLICY


def test_a_question_of_only_common_words_is_not_answered(corpus_index):
    """«skole» alone names a setting, not a topic: the box abstains however sure the ranking is of its top hit."""
    from indexer.embed import load_embedder
    from search_api.index_store import IndexStore
    from search_api.params import SearchRequest
    from search_api.search import search

    snap = IndexStore(corpus_index.index_dir).get()
    emb = load_embedder(corpus_index.model, corpus_index.threads)
    asked = {q: search(snap, emb, corpus_index, SearchRequest(q=q)) for q in ("skole", "barn", "skolevegring")}
    assert asked["skole"].vague and asked["barn"].vague and not asked["skolevegring"].vague
    assert not asked["skole"].answer.answered and asked["skole"].answer.message == NO_ANSWER
    assert asked["skolevegring"].answer.answered  # one rare word is a topic
    assert is_vague(0.4) and not is_vague(0.05) and not is_vague(None)  # None: a question without terms
    # a misspelt topic word is unknown to the bank (share 0), so «skole mobing» is no vague question
    assert not search(snap, emb, corpus_index, SearchRequest(q="skole mobing")).vague
    # vague outweighs any evidence
    hits = [_hit(1, 1, 1.0), _hit(2, 2, 0.5, "e")]
    assert evidence(hits) and not build_answer(snap, hits, ["skol"], [], vague=True).answered


def test_the_served_box_reads_the_learned_fusions_confidence(corpus_index, monkeypatch):
    from dataclasses import replace as change

    from indexer.embed import load_embedder
    from search_api import search as searching
    from search_api.index_store import IndexStore
    from search_api.params import SearchRequest

    served = searching.answer_policy(corpus_index)
    assert served.confidence is not None
    assert searching.answer_policy(change(corpus_index, fusion="rrf")) is POLICY  # rrf's scores are no probabilities
    # the search asks it: with a threshold no confidence reaches, a question it answers goes unanswered
    snap = IndexStore(corpus_index.index_dir).get()
    emb = load_embedder(corpus_index.model, corpus_index.threads)
    req = SearchRequest(q="hva er skolevegring?")
    assert searching.search(snap, emb, corpus_index, req).answer.answered
    monkeypatch.setattr(searching, "answer_policy", lambda settings: replace(served, min_confidence=1.01))
    assert not searching.search(snap, emb, corpus_index, req).answer.answered


def test_a_spaced_dash_is_prose_and_a_spaced_hyphen_starts_a_list_item():
    """Passages hold Markdown list items as « - item»; a spaced en dash is a pause inside a sentence."""
    from search_api.answer import _candidates

    text = ("Det du gjør nå, kan avgjøre om barnet får hjelp – og om barnet tør å fortelle igjen. Typiske tanker "
            "er: - «Mamma er lei seg fordi jeg var slem.» - «Pappa er sint på meg i dag.»")
    got = _candidates(text)
    assert "Det du gjør nå, kan avgjøre om barnet får hjelp – og om barnet tør å fortelle igjen." in got
    assert "«Pappa er sint på meg i dag.»" in got and not any(c.startswith("og om") for c in got)


def test_only_the_top_passage_falls_back_to_its_lead_sentence():
    """A passage sharing no word with the question is quoted by its lead sentence when it is the top hit (the
    vectors found it by meaning), never as the second source."""
    from indexer.analysis import terms
    from search_api.answer import _best_sentences

    text = "Kongen kan gi forskrift om registre. Opplysningene skal lagres trygt i mange år."
    registre = terms("registre")[0]
    assert _best_sentences(text, {"meldeplikt": 3.0}, 2) == ["Kongen kan gi forskrift om registre."]
    assert _best_sentences(text, {"meldeplikt": 3.0}, 2, lead=False) == []
    assert _best_sentences(text, {registre: 3.0}, 2, lead=False) == ["Kongen kan gi forskrift om registre."]


def test_an_unknown_margin_kind_is_refused():
    with pytest.raises(ValueError, match="margin.*'relative' or 'logit'"):
        replace(POLICY, margin="percent")


def test_abstaining_offers_the_closest_themes(corpus_index):
    from search_api.index_store import IndexStore

    snap = IndexStore(corpus_index.index_dir).get()
    a = build_answer(snap, [_hit(9, 9)], ["kutt"], ["selvskading", "psykisk-helse"])
    assert not a.answered and a.message == NO_ANSWER and a.themes[:2] == ["selvskading", "psykisk-helse"]


def test_an_english_question_is_not_answered(corpus_index):
    """Both of its lists searched its bokmål translation: their agreement is not independent evidence."""
    from search_api.index_store import IndexStore

    snap = IndexStore(corpus_index.index_dir).get()
    hits = [_hit(1, 1, 1.0), _hit(2, 2, 0.5, "e")]
    assert evidence(hits)
    a = build_answer(snap, hits, [], [], translated=True)
    assert not a.answered and a.message == NO_ANSWER
    # the search says which questions those are, so `make eval`'s answer-box sweep treats them as served
    from indexer.embed import load_embedder
    from search_api.params import SearchRequest
    from search_api.search import search

    emb = load_embedder(corpus_index.model, corpus_index.threads)
    asked = {q: search(snap, emb, corpus_index, SearchRequest(q=q)).translated
             for q in ("how do I talk to a child about bullying", "hvordan snakke med et barn om mobbing")}
    assert asked == {"how do I talk to a child about bullying": True, "hvordan snakke med et barn om mobbing": False}


def test_the_sweep_tries_the_confidence_thresholds_only_with_a_confidence_model():
    from evaluations.answers import CONFIDENCES, _rule, confidence_sweep

    conf = policy_for(Confidence(bias=-3.0, score=0.5, lead=0.5))
    swept = confidence_sweep(conf)
    assert [p.min_confidence for p in swept] == list(CONFIDENCES) and all(p.confidence == conf.confidence for p in swept)
    assert confidence_sweep(POLICY) == []
    assert _rule(swept[0]) == "confidence ≥ 0.20" and _rule(POLICY).startswith("rank ≤ 3, margin ≥ 0.05")
