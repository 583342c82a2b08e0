"""Norwegian questions find their expected document in the top 3 (real corpus, real model)."""

import pytest

from search_api.index_store import IndexStore
from search_api.params import SearchRequest
from search_api.search import search
from indexer.embed import load_embedder

# (question, documents any of which answers it)
CASES = [
    ("hva gjør jeg når en elev forteller at hun blir mobbet?", {"mobbesak-steg-for-steg-aktivitetsplikt",
                                                                "hva-er-mobbing-kjennetegn-og-tegn"}),
    ("eleven min kutter seg i armene", {"veileder-eleven-kutter-seg", "selvskading-hva-hvorfor-og-tegn"}),
    ("eleven sier hun ikke vil leve lenger", {"nar-barn-sier-de-ikke-vil-leve", "veileder-akutt-selvmordsfare-hos-elev"}),
    ("mamma er psykisk syk og eleven tar ansvar hjemme", {"tegn-pa-at-barn-barer-tungt-hjemme",
                                                         "samtale-med-elev-som-har-psykisk-syk-forelder",
                                                         "barnets-behov-for-informasjon-nar-mamma-er-psykisk-syk"}),
    ("når skal jeg melde til barnevernet?", {"melde-til-barnevernet-psykisk-syk-forelder", "akutt-hjelp",
                                            "barnevernstjenesten-og-barnevernvakta",
                                            "personalmote-fra-undring-til-bekymringsmelding"}),
    ("elev vil ikke gå på skolen og har mye fravær", {"skolevegring-og-bekymringsfullt-skolefravaer",
                                                     "veileder-eleven-vil-ikke-pa-skolen", "veileder-skolefravaer"}),
    ("hva sier forskningen om antimobbeprogrammer?", {"forskning-gaffney-2019-antimobbeprogrammer"}),
    # once a known miss (4th behind conversation guides); found since akutt-hjelp's helplines say more (issue 17)
    ("hvem kan eleven ringe for å snakke med noen?", {"kontakt-hjelpetelefoner-og-chat-for-barn-og-unge", "akutt-hjelp"}),
    ("hjelpetelefon for barn og unge", {"kontakt-hjelpetelefoner-og-chat-for-barn-og-unge", "akutt-hjelp"}),
    ("tilrettelegging for elev med ADHD", {"adhd-tegn-og-tilrettelegging-barneskolen"}),
    ("hva gjør PPT?", {"ppt-og-statped"}),
]


@pytest.fixture(scope="module")
def searcher(corpus_index):
    store = IndexStore(corpus_index.index_dir)
    emb = load_embedder(corpus_index.model, corpus_index.threads)
    snap = store.get()
    present = set(snap.documents)

    def top3(q):
        return [h.doc_id for h in search(snap, emb, corpus_index, SearchRequest(q=q, k=3)).hits], present
    return top3


@pytest.mark.slow
@pytest.mark.parametrize("question, expected", CASES,
                         ids=[(c.values[0] if hasattr(c, "values") else c[0])[:40] for c in CASES])
def test_question_finds_expected_document_in_top3(searcher, question, expected):
    top, present = searcher(question)
    assert expected & present, f"none of {expected} is in the corpus"
    assert expected & set(top), f"{question!r}: top 3 was {top}"


@pytest.mark.slow
def test_an_english_question_searches_bm25_in_its_bokmal_translation(corpus_index, monkeypatch):
    """BM25 on an English question's own words would match only the English research summaries."""
    import dataclasses

    from indexer import language

    snap = IndexStore(corpus_index.index_dir).get()
    emb = load_embedder(corpus_index.model, corpus_index.threads)
    bm25 = dataclasses.replace(corpus_index, fusion="bm25", theme_boost=0.0)
    req = SearchRequest(q="my pupil is cutting herself on the arms", k=3)
    top = [h.doc_id for h in search(snap, emb, bm25, req).hits]
    assert {"veileder-eleven-kutter-seg", "selvskading-hva-hvorfor-og-tegn"} & set(top), top
    assert all(snap.documents[d].language != "en" for d in top)
    # words no theme's English synonyms route: BM25 finds the subject through the table, and without it nothing
    req = SearchRequest(q="a complaint to the county governor", k=3)
    hits = search(snap, emb, bm25, req).hits
    assert hits and "statsforvalter" in snap.chunks[hits[0].chunk_id].text.lower(), hits[:1]
    monkeypatch.setattr(language, "english_table", lambda: ())
    assert search(snap, emb, bm25, req).hits == []


@pytest.mark.slow
def test_the_served_search_embeds_an_english_question_with_its_translation(corpus_index):
    import dataclasses

    from indexer.language import dense_query
    from search_api.hits import best_per_result
    from search_api.search import rank

    snap = IndexStore(corpus_index.index_dir).get()
    emb = load_embedder(corpus_index.model, corpus_index.threads)
    dense = dataclasses.replace(corpus_index, fusion="dense", theme_boost=0.0, law_ranking=False)
    req = SearchRequest(q="my pupil is cutting herself on the arms", k=10)
    served = [h.doc_id for h in search(snap, emb, dense, req).hits]

    def ranked(text):
        fused, _, _ = rank(snap, emb, dense, req, emb.embed_query(text))
        return [h.doc_id for h in best_per_result(fused)]
    assert ranked(dense_query(req.q))[:3] == served[:3] != ranked(req.q)[:3]
