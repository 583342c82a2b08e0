from datetime import date

from indexer.chunk import ChunkParams, chunk_document, pack, passage_text, sections
from indexer.documents import Document


def _doc(body="", pages=(), kind="markdown"):
    return Document(id="d", title="Tittel", themes=("selvskading",), content_type="kunnskap", audience=("laerer",),
                    publisher="P", source_url="https://x.no", published=date(2026, 1, 1), language="nb", sources=(),
                    last_reviewed=date(2026, 1, 1), path="corpus/d.md", kind=kind, body=body, pages=tuple(pages))


def test_sections_keep_heading_paths():
    body = "Innledning her.\n\n## Tegn\n\nTekst om tegn.\n\n### På skolen\n\n- punkt en\n- punkt to\n\n## Tiltak\n\nGjør noe."
    assert sections(body) == [
        ((), ["Innledning her."]),
        (("Tegn",), ["Tekst om tegn."]),
        (("Tegn", "På skolen"), ["- punkt en", "- punkt to"]),
        (("Tiltak",), ["Gjør noe."]),
    ]


def test_pack_targets_size_and_overlaps():
    units = [f"Setning nummer {i} har seks ord." for i in range(40)]  # 6 words each
    ranges = pack(units, ChunkParams(target_words=30, max_words=40, overlap_words=12))
    assert ranges[0] == (0, 5)  # 5 × 6 = 30 words reaches the target
    assert ranges[1][0] == 3    # two sentences (12 words) carried over
    assert ranges[-1][1] == 40
    assert all(b - a <= 40 // 6 for a, b in ranges)


def test_long_section_is_split_and_chunks_know_heading_and_anchor():
    para = " ".join(f"Dette er setning {i} om mobbing i skolen." for i in range(60))
    doc = _doc(body=f"## Mobbing\n\n{para}\n\n## Kort\n\nBare litt tekst.")
    chunks = chunk_document(doc, ChunkParams(160, 220, 30))
    assert len(chunks) >= 3
    assert all(len(c.text.split()) <= 220 for c in chunks)
    assert chunks[0].heading_path == ("Mobbing",) and chunks[0].anchor == "c0"
    # the short last section joins the previous chunk instead of standing alone
    assert chunks[-1].text.endswith("Kort: Bare litt tekst.")
    assert passage_text(doc, chunks[0]).startswith("Tittel. Mobbing. Dette er setning 0")


def test_pdf_chunks_never_cross_pages():
    doc = _doc(kind="pdf", pages=["Første side om fravær. " * 10, "Andre side om hjemmet. " * 10])
    chunks = chunk_document(doc, ChunkParams())
    assert [c.page for c in chunks] == [1, 2]
    assert "Andre" not in chunks[0].text
