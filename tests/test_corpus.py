"""The shipped corpus: valid, with every law reference pointing at a section that exists in the law in force."""

from pathlib import Path

import pytest

from indexer.corpus_check import check_law_links, check_law_refs, counts, law_references
from indexer.lawrefs import references
from indexer.laws import read_law
from indexer.settings import LAWS_DIR
from indexer.load import load_corpus
from indexer.settings import ROOT
from indexer.themes import load_themes


@pytest.fixture(scope="module")
def corpus():
    themes = load_themes(ROOT / "corpus" / "themes.yml")
    return load_corpus([ROOT / "corpus"], {t.id for t in themes})


def test_corpus_is_valid_and_covers_every_theme(corpus):
    assert [str(p) for p in corpus.problems] == []
    c = counts(corpus.documents)
    assert len(corpus.documents) >= 120
    assert len(c["primary theme"]) == 12 and min(c["primary theme"].values()) >= 10
    assert set(c["content type"]) == {"kunnskap", "veileder", "undervisningsmateriell", "kontakt", "kursmodul",
                                      "webinar", "forskning"}
    assert c["language"]["nn"] >= 10 and c["language"]["en"] >= 6 and c["kind"]["pdf"] >= 8
    assert all(d.sources and d.last_reviewed for d in corpus.documents)
    ids = {d.id for d in corpus.documents}
    assert {"akutt-hjelp", "sovei-prosjektet"} <= ids


def test_law_reference_parser():
    names = {n: n for n in ("opplæringslova", "barnevernsloven", "helsepersonelloven", "forvaltningsloven")}
    refs = references("Se opplæringslova § 12-4 og barnevernsloven § 13-2. Etter helsepersonelloven § 10 a "
                          "og forvaltningsloven §§ 13 og 13 b. Jf. opplæringslova § 12-4 i praksis.", names)
    assert [(r.law, r.section) for r in refs] == [
        ("opplæringslova", "12-4"), ("barnevernsloven", "13-2"), ("helsepersonelloven", "10a"),
        ("forvaltningsloven", "13"), ("forvaltningsloven", "13b"), ("opplæringslova", "12-4")]


def test_every_law_reference_exists_in_the_law_in_force(corpus):
    if not LAWS_DIR.is_dir():
        pytest.skip(f"law texts not found at {LAWS_DIR} (the shared folder sits beside the repository)")
    law = read_law(LAWS_DIR / "lov-2023-06-09-30-opplaeringslova.md", "opplaeringslova.md")
    sections = {s.key for s in law.sections}
    assert {"12-4", "24-3", "10-3"} <= sections and "9A-4" not in sections
    problems = check_law_refs(corpus.documents)
    assert problems == []
    n = sum(len(law_references(d.body or "\n".join(d.pages))) for d in corpus.documents)
    assert n > 100  # the check really looked at the corpus's references


def test_a_wrong_section_is_caught(tmp_path):
    if not LAWS_DIR.is_dir():
        pytest.skip(f"law texts not found at {LAWS_DIR}")
    from dataclasses import replace
    from datetime import date

    from indexer.documents import Document, Source

    doc = Document(id="x", title="x", themes=("x",), content_type="kunnskap", audience=("laerer",), publisher="p",
                   source_url="https://x.no", published=date(2026, 1, 1), language="nb", sources=(),
                   last_reviewed=date(2026, 1, 1), path="corpus/x.md", kind="markdown",
                   body="Etter opplæringslova § 9 A-4 og opplæringslova § 12-99 skal skolen handle.")
    problems = check_law_refs([doc])
    law = read_law(LAWS_DIR / "lov-2023-06-09-30-opplaeringslova.md", "opplaeringslova.md")
    linked = replace(doc, sources=(Source("x", "https://lovdata.no/lov/2023-06-09-30/§12-4"),
                                   Source("y", "https://lovdata.no/lov/2023-06-09-30/§12-99")))
    assert check_law_links([linked], [law]) == [
        "corpus/x.md: field 'sources[1].url': https://lovdata.no/lov/2023-06-09-30/§12-99 links to § 12-99, which "
        "lov/2023-06-09-30 does not have"]
    assert len(problems) == 2
    assert "repealed 1998 Education Act" in problems[0]
    assert "opplæringslova has no § 12-99" in problems[1]


def test_pdfs_are_reproducible_from_their_sources():
    import subprocess
    import sys

    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "make_pdfs.py"), "--check"], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    assert all(p.stat().st_size < 300 * 1024 for p in (ROOT / "corpus" / "pdf").glob("*.pdf"))
    assert len(list(Path(ROOT / "corpus" / "pdf").glob("*.pdf.yml"))) >= 8
