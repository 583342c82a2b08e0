"""The norwegian-laws adapter (`indexer/laws.py`): real law files read where they lie, a small inline law for
the rules, and malformed files that name the file and the field."""

from __future__ import annotations

import pytest

from indexer.build import build_index
from indexer.chunk import ChunkParams, chunk_document
from indexer.errors import CorpusError, DocumentError
from indexer.laws import (LICENSE, NotInForce, chapter_documents, load_laws, load_mapping, read_law, section_url)
from indexer.settings import ROOT, Settings
from indexer.themes import load_themes
from search_api.search import citation

from .conftest import shared_or_skip

PARAMS = ChunkParams(160, 220, 30)  # the served defaults
THEMES = {t.id for t in load_themes(ROOT / "corpus" / "themes.yml")}


@pytest.fixture(scope="module")
def mapping():
    return load_mapping([ROOT / "corpus"], THEMES)


def law_docs(name: str, mapping):
    law = read_law(shared_or_skip("corpus-public", "laws", name), f"laws/{name}")
    return law, {d.id: d for d in chapter_documents(law, mapping)}


def test_every_section_of_opplaeringslova_chapter_12_is_its_own_passage_with_its_own_citation(mapping):
    law, docs = law_docs("lov-2023-06-09-30-opplaeringslova.md", mapping)
    assert (law.refid, law.short_title, law.amended_by) == ("lov/2023-06-09-30", "Opplæringslova", "lov/2025-06-20-39")
    doc = docs["lov-2023-06-09-30-kap-12"]
    assert (doc.title, doc.content_type, doc.publisher, doc.language) == (
        "Opplæringslova – Kapittel 12 Skolemiljøet til elevane", "lov", "Lovdata", "nn")
    assert doc.themes == ("mobbeforebygging", "trivsel-inkludering", "konfliktlosning")  # the mapping's chapter 12
    chunks = chunk_document(doc, PARAMS)
    by_section: dict[str, list] = {}
    for c in chunks:
        by_section.setdefault(c.heading_path[0].split(".")[0], []).append(c)
    assert list(by_section) == [f"§ 12-{n}" for n in range(1, 11)]  # every §, in order, none across two
    # one passage per §; only § 12-6 (245 words, over the 220 of a passage) is split, between whole ledd
    assert {k: len(v) for k, v in by_section.items() if len(v) > 1} == {"§ 12-6": 2}
    assert [c.heading_path[1] for c in by_section["§ 12-6"]] == ["første til tredje ledd", "fjerde og femte ledd"]
    cite = citation(doc, by_section["§ 12-4"][0])
    assert cite.title == ("opplæringslova § 12-4 Plikt til å sikre eit trygt og godt psykososialt skolemiljø "
                          "(aktivitetsplikt og dokumentasjonsplikt)")
    assert cite.url == "https://lovdata.no/lov/2023-06-09-30/§12-4"
    anchor = by_section["§ 12-4"][0].anchor
    assert cite.document_url == f"/dokument/lov-2023-06-09-30-kap-12?avsnitt={anchor}#{anchor}"
    assert (cite.kind, cite.publisher, cite.license) == ("lov", "Lovdata", LICENSE)
    titles = {citation(doc, cs[0]).title.split(" ", 3)[2] for cs in by_section.values()}
    assert titles == {f"12-{n}" for n in range(1, 11)}  # each passage cites its own §


def test_language_publisher_and_themes_per_law(mapping):
    _, barnelova = law_docs("lov-1981-04-08-7-barnelova.md", mapping)
    _, barnevern = law_docs("lov-2021-06-18-97-barnevernsloven.md", mapping)
    assert {d.language for d in barnelova.values()} == {"nn"}
    assert {d.language for d in barnevern.values()} == {"nb"}
    assert barnevern["lov-2021-06-18-97-kap-13"].themes[0] == "tverrfaglig-samarbeid"
    unmapped = [d for d in barnevern.values() if not d.themes]
    assert unmapped, "a chapter the mapping does not list is still a document (searchable, in no theme)"
    assert all(d.primary_theme == "" and d.content_type == "lov" for d in unmapped)
    doc = barnevern["lov-2021-06-18-97-kap-13"]
    assert doc.law.name == "barnevernsloven" and "child welfare act" in [a.lower() for a in doc.law.aliases]


def test_laws_passed_but_not_in_force_are_left_out_with_the_reason():
    for name in ("lov-2025-06-20-40-barnelova-2025.md", "lov-2025-06-20-81-forvaltningsloven-2025.md"):
        path = shared_or_skip("corpus-public", "laws", "vedtatt-ikke-i-kraft", name)
        with pytest.raises(NotInForce, match="passed but not in force"):
            read_law(path, name)


def test_the_shared_law_folder_gives_eight_laws_and_no_law_not_in_force(mapping):
    loaded = load_laws([shared_or_skip("corpus-public", "laws")], mapping)
    assert loaded.problems == []
    assert len(loaded.laws) == 8 and not any(law.refid.startswith("lov/2025") for law in loaded.laws)


LAW = """---
tittel: "Lov om prøving (prøvelova)"
korttittel: "Prøvelova – pl"
refid: "lov/2030-01-01-1"
ikrafttredelse: "2030-07-01"
sist-endret: "lov/2031-01-01-2"
sist-endret-ikrafttredelse: "2031-01-01"
---

# Lov om prøving (prøvelova)

## Kapittel 1 Allment

#### § 1-1. Føremål

Lova skal sikre at alle prøver blir gjennomførte på ein trygg måte for alle som tek del i dei.

*Endra med lov 1 jan 2031 nr. 2.*

#### § 1-2. Lang paragraf

{ledd}

## Kapittel 2 Ikkje i kartet

#### § 2-1. Anna

Denne paragrafen står i eit kapittel som temakartet ikkje nemner, men han skal likevel kunne finnast.
"""


def write_law(folder, text=None, name="lov-2030-01-01-1-provelova.md"):
    folder.mkdir(exist_ok=True)
    ledd = "\n\n".join(f"Ledd nummer {i} " + "ord " * 70 + "slutt." for i in range(1, 5))
    path = folder / name
    path.write_text(text if text is not None else LAW.replace("{ledd}", ledd), encoding="utf-8")
    return path


def test_a_long_section_is_split_at_its_ledd_and_amendment_notes_are_not_law_text(tmp_path, mapping):
    law = read_law(write_law(tmp_path / "laws"), "laws/prove.md")
    assert [s.key for s in law.sections] == ["1-1", "1-2", "2-1"]
    assert law.sections[0].paragraphs == ("Lova skal sikre at alle prøver blir gjennomførte på ein trygg måte for "
                                          "alle som tek del i dei.",)
    docs = {d.id: d for d in chapter_documents(law, mapping)}
    assert set(docs) == {"lov-2030-01-01-1-kap-1", "lov-2030-01-01-1-kap-2"}
    chunks = chunk_document(docs["lov-2030-01-01-1-kap-1"], PARAMS)
    assert [c.heading_path for c in chunks] == [
        ("§ 1-1. Føremål",), ("§ 1-2. Lang paragraf", "første og andre ledd"),
        ("§ 1-2. Lang paragraf", "tredje og fjerde ledd")]
    assert chunks[1].text.startswith("Ledd nummer 1") and chunks[2].text.startswith("Ledd nummer 3")
    assert section_url(law.refid, "1-2") == "https://lovdata.no/lov/2030-01-01-1/§1-2"
    assert docs["lov-2030-01-01-1-kap-2"].themes == ()  # a law the mapping does not list: searchable, no theme
    assert docs["lov-2030-01-01-1-kap-1"].law.name == "prøvelova"


@pytest.mark.parametrize("change, field, words", [
    (lambda t: t.replace('refid: "lov/2030-01-01-1"\n', ""), "refid", "is missing"),
    (lambda t: t.replace('"lov/2030-01-01-1"', '"2030-01-01-1"'), "refid", "is not a Lovdata refid"),
    (lambda t: t.replace('tittel: "Lov om prøving (prøvelova)"\n', ""), "tittel", "is missing"),
    (lambda t: t.replace('ikrafttredelse: "2030-07-01"\n', ""), "ikrafttredelse", "is missing"),
    (lambda t: t.replace('sist-endret-ikrafttredelse: "2031-01-01"', 'sist-endret-ikrafttredelse: "snart"'),
     "sist-endret-ikrafttredelse", "is not a date"),
    (lambda t: t.replace('sist-endret: "lov/2031-01-01-2"', 'sist-endret: "i fjor"'), "sist-endret",
     "is not a Lovdata refid"),
    (lambda t: t.replace("#### §", "#### Paragraf"), "body", "has no § headings"),
    (lambda t: t.replace("korttittel: \"Prøvelova – pl\"", "korttittel: [uavslutta"), "front matter",
     "is not valid YAML"),
])
def test_a_malformed_law_file_names_the_file_and_the_field(tmp_path, change, field, words):
    path = write_law(tmp_path / "laws")
    path.write_text(change(path.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(DocumentError) as exc:
        read_law(path, "laws/lov-2030-01-01-1-provelova.md")
    assert exc.value.field == field
    assert str(exc.value).startswith(f"laws/lov-2030-01-01-1-provelova.md: field '{field}': ")
    assert words in str(exc.value)


def test_make_index_stops_on_a_malformed_law_file_and_names_it(tmp_path, mini_corpus):
    laws = tmp_path / "laws"
    path = write_law(laws)
    path.write_text(path.read_text(encoding="utf-8").replace('refid: "lov/2030-01-01-1"\n', ""), encoding="utf-8")
    settings = Settings.from_env(env={}, corpus_dirs=str(mini_corpus), law_dirs=str(laws),
                                 index_dir=tmp_path / "index", cache_dir=tmp_path / "cache")
    with pytest.raises(CorpusError) as exc:
        build_index(settings)
    assert "laws/lov-2030-01-01-1-provelova.md: field 'refid': is missing" in str(exc.value)
    assert not settings.current_index.exists()


def test_the_mapping_is_checked_against_the_themes(tmp_path):
    (tmp_path / "mappings").mkdir()
    (tmp_path / "mappings" / "lovdata.yml").write_text(
        "laws:\n  lov/2030-01-01-1:\n    chapters:\n      \"1\": [ukjent-tema]\n", encoding="utf-8")
    with pytest.raises(DocumentError) as exc:
        load_mapping([tmp_path], THEMES)
    assert exc.value.field == "laws.lov/2030-01-01-1.chapters.1"
    assert "unknown theme 'ukjent-tema'" in str(exc.value)


def test_the_service_says_in_one_line_whether_it_serves_laws():
    from types import SimpleNamespace

    from search_api.__main__ import law_line

    assert law_line(SimpleNamespace(laws={"law_dirs": [], "laws": []})) == (
        "Uten lovtekster: fant ingen lovmappe (SOVEI_LAW_DIRS, standard ../shared/corpus-public/laws); banken søker "
        "bare i egne dokumenter.")
    assert law_line(SimpleNamespace(laws={})) == law_line(SimpleNamespace(laws={"law_dirs": [], "laws": []}))
    assert law_line(SimpleNamespace(laws={"law_dirs": ["/srv/laws"], "laws": ["Opplæringslova (lov/2023-06-09-30)"]})) \
        == "Lovtekster: 1 lov fra /srv/laws."
