from pathlib import Path

import pytest

from indexer.errors import DocumentError
from indexer.load import load_corpus, load_document
from indexer.pdf import clean_page_text, extract_pages
from indexer.themes import load_themes

from .conftest import shared_or_skip

THEMES = {"mobbeforebygging", "selvskading", "foreldresamarbeid"}


def test_mini_corpus_loads_with_norwegian_letters(mini_corpus):
    result = load_corpus([mini_corpus], THEMES)
    assert result.problems == []
    ids = sorted(d.id for d in result.documents)
    assert ids == ["foreldremote-om-skolemiljo", "mobbing-i-friminuttet", "nar-en-elev-skader-seg-selv", "skolefravaer"]
    doc = next(d for d in result.documents if d.id == "foreldremote-om-skolemiljo")
    assert doc.language == "nn" and "følgjer" in doc.body and doc.title == "Foreldremøte om skolemiljøet"
    pdf = next(d for d in result.documents if d.id == "skolefravaer")
    assert pdf.kind == "pdf" and len(pdf.pages) >= 3 and "fravær" in " ".join(pdf.pages)


def test_hyphenated_line_breaks_are_joined_and_letters_kept():
    assert clean_page_text("et trygt skole-\nmiljø for alle") == "et trygt skolemiljø for alle"
    assert clean_page_text("barne- og ungdomspsykiatri") == "barne- og ungdomspsykiatri"
    assert clean_page_text("Æ Ø Å æ ø å") == "Æ Ø Å æ ø å"
    assert clean_page_text("sam-\n  arbeid") == "samarbeid"


def _write(corpus: Path, name: str, text: str) -> Path:
    p = corpus / "docs" / name
    p.write_text(text, encoding="utf-8")
    return p


GOOD_HEAD = """---
id: ny-veileder
title: Ny veileder
themes: [mobbeforebygging]
content_type: veileder
audience: [sosialfaglig]
publisher: SoVei kunnskapsbank
source_url: https://www.udir.no
published: 2026-11-27
language: nb
sources:
  - title: Udir
    url: https://www.udir.no
last_reviewed: 2026-11-27
---
"""
BODY = "Dette er en kort veileder om hvordan skolen arbeider mot mobbing i friminuttet, med konkrete steg. " * 2


@pytest.mark.parametrize("change, field, words", [
    (("themes: [mobbeforebygging]", "themes: [mobbing]"), "themes", "unknown theme 'mobbing'"),
    (("content_type: veileder", "content_type: brosjyre"), "content_type", "'brosjyre' is not one of"),
    (("published: 2026-11-27", "published: i fjor"), "published", "is not a date; write YYYY-MM-DD"),
    (("id: ny-veileder", "id: Ny Veileder"), "id", "is not a slug"),
    (("language: nb", "language: sv"), "language", "'sv' is not one of: nb, nn, en"),
    (("publisher: SoVei kunnskapsbank\n", ""), "publisher", "is missing"),
    (("    url: https://www.udir.no\nlast", "    url: www.udir.no\nlast"), "sources[0].url", "must be a full http(s) URL"),
    (("last_reviewed: 2026-11-27\n", "last_reviewed: 2026-11-27\nquestions: hva gjør jeg\n"), "questions",
     "must be a list of questions"),
    (("last_reviewed: 2026-11-27\n", 'last_reviewed: 2026-11-27\nquestions:\n  - "hva gjør jeg"\n  - ""\n'),
     "questions[1]", "is empty or not text"),
])
def test_bad_front_matter_names_file_and_field(mini_corpus, change, field, words):
    path = _write(mini_corpus, "ny.md", GOOD_HEAD.replace(*change) + BODY)
    with pytest.raises(DocumentError) as err:
        load_document(mini_corpus, path, THEMES)
    msg = str(err.value)
    assert msg.startswith("corpus/docs/ny.md: field '" + field + "': ")
    assert words in msg


def test_invalid_yaml_and_missing_front_matter(mini_corpus):
    path = _write(mini_corpus, "ny.md", GOOD_HEAD.replace("themes: [mobbeforebygging]", "themes: [mobbe") + BODY)
    with pytest.raises(DocumentError, match=r"corpus/docs/ny.md: field 'front matter': is not valid YAML at line \d+"):
        load_document(mini_corpus, path, THEMES)
    path = _write(mini_corpus, "ny.md", BODY)
    with pytest.raises(DocumentError, match="has no front matter"):
        load_document(mini_corpus, path, THEMES)


def test_empty_body_and_duplicate_ids_are_reported_not_lost(mini_corpus):
    _write(mini_corpus, "tom.md", GOOD_HEAD.replace("ny-veileder", "tom") + "\nKort.\n")
    _write(mini_corpus, "dobbel.md", GOOD_HEAD.replace("ny-veileder", "mobbing-i-friminuttet") + BODY)
    result = load_corpus([mini_corpus], THEMES)
    messages = sorted(str(p) for p in result.problems)
    assert messages == [
        "corpus/docs/mobbing-i-friminuttet.md: field 'id': duplicate id 'mobbing-i-friminuttet', also used by "
        "corpus/docs/dobbel.md",
        "corpus/docs/tom.md: field 'body': has 1 words; a document needs at least 20",
    ]
    assert len(result.documents) == 4


def test_pdf_without_sidecar(mini_corpus):
    (mini_corpus / "docs" / "skolefravaer.pdf.yml").unlink()
    result = load_corpus([mini_corpus], THEMES)
    assert [str(p) for p in result.problems] == [
        "corpus/docs/skolefravaer.pdf: has no sidecar metadata file; create skolefravaer.pdf.yml with the same "
        "fields as Markdown front matter"]


@pytest.mark.parametrize("name, reason", [
    ("broken-zero-bytes.pdf", "the file is empty"),
    ("broken-not-a-pdf.pdf", "not a PDF"),
    ("broken-truncated-half.pdf", "unreadable PDF"),
    ("broken-startxref-wrong.pdf", "unreadable PDF"),
    ("r3-user-password.pdf", "a password is required"),
    ("imagemagick-lzw.pdf", "no text layer"),
])
def test_broken_pdfs_fail_with_a_reason(name, reason):
    path = shared_or_skip("corpus-public", "pdf-robustness", name)
    with pytest.raises(DocumentError, match=reason) as err:
        extract_pages(path, timeout_s=20)
    assert name in str(err.value)


@pytest.mark.parametrize("name", ["r6-empty-password.pdf", "issue-297.pdf", "pdflatex-outline.pdf"])
def test_readable_odd_pdfs_give_text(name):
    pages = extract_pages(shared_or_skip("corpus-public", "pdf-robustness", name), timeout_s=20)
    assert any(p.strip() for p in pages)


def test_themes_file_errors(tmp_path):
    p = tmp_path / "themes.yml"
    p.write_text("themes:\n  - id: a\n    label: A\n    label_nn: A\n", encoding="utf-8")
    with pytest.raises(DocumentError, match=r"themes.yml: field 'themes\[0\].description': is missing or empty"):
        load_themes(p)


def test_huge_file_is_refused_with_size_and_limit(mini_corpus):
    big = mini_corpus / "docs" / "stor.md"
    with big.open("wb") as fh:
        fh.truncate(21 * 1024 * 1024)  # sparse: no real disk use
    with pytest.raises(DocumentError, match=r"corpus/docs/stor.md: file is 21.0 MiB; the limit is 20 MiB"):
        load_document(mini_corpus, big, THEMES)
