"""Document → Chunks: heading- and sentence-aware, with a small overlap.

Chunks never cross a heading (Markdown) or a page (PDF), so every passage can be cited
with one section or one page. A law chapter (`content_type` `lov`) is cut differently: every § is its own
passage, and a § longer than `max_words` is split between its ledd (never inside one unless a single
ledd is longer), with no overlap, each part cited with its ledd («§ 13-4 første til tredje ledd»).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .documents import Chunk, Document

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_SENTENCE_END = re.compile(r"(?<=[.!?:])\s+(?=[«\"(\[]?[A-ZÆØÅ0-9])")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]+\)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|`)")
MIN_SECTION_WORDS = 40


@dataclass(frozen=True)
class ChunkParams:
    target_words: int = 160
    max_words: int = 220
    overlap_words: int = 30


def plain(text: str) -> str:
    """Markdown inline syntax → plain text (links keep their words)."""
    return _EMPHASIS.sub("", _LINK.sub(r"\1", text))


def sections(body: str) -> list[tuple[tuple[str, ...], list[str]]]:
    """Split a Markdown body into (heading path, blocks) in document order."""
    out: list[tuple[tuple[str, ...], list[str]]] = []
    path: list[tuple[int, str]] = []
    blocks: list[str] = []
    para: list[str] = []

    def flush_para():
        if para:
            blocks.append(" ".join(para))
            para.clear()

    def flush_section():
        flush_para()
        if blocks:
            out.append((tuple(h for _, h in path), list(blocks)))
            blocks.clear()

    for line in body.splitlines():
        m = _HEADING.match(line)
        if m:
            flush_section()
            level = len(m.group(1))
            path[:] = [(lv, h) for lv, h in path if lv < level] + [(level, plain(m.group(2)))]
            continue
        if not line.strip():
            flush_para()
        elif _LIST_ITEM.match(line) or line.lstrip().startswith("|"):
            flush_para()
            blocks.append(plain(line.strip()))
        else:
            para.append(plain(line.strip()))
    flush_section()
    return out


def sentences(block: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(block) if s.strip()]


def _split_long(sentence: str, max_words: int) -> list[str]:
    words = sentence.split()
    return [" ".join(words[i:i + max_words]) for i in range(0, len(words), max_words)]


def units_of(blocks: list[str], max_words: int) -> list[tuple[int, str]]:
    """(block index, sentence) in order; over-long sentences are cut to max_words."""
    return [(b, piece) for b, block in enumerate(blocks) for s in sentences(block)
            for piece in _split_long(s, max_words)]


def pack(units: list[str], params: ChunkParams) -> list[tuple[int, int]]:
    """Greedy packing of sentence units into chunks of ~target words, carrying an overlap.

    Returns [start, end) unit ranges; consecutive ranges overlap by up to `overlap_words`.
    """
    ranges: list[tuple[int, int]] = []
    start, count = 0, 0
    for i, unit in enumerate(units):
        n = len(unit.split())
        if i > start and (count + n > params.max_words or count >= params.target_words):
            ranges.append((start, i))
            new_start, carried = i, 0
            while new_start - 1 > start and carried + len(units[new_start - 1].split()) <= params.overlap_words:
                new_start -= 1
                carried += len(units[new_start].split())
            start, count = new_start, carried
        count += n
    if start < len(units):
        ranges.append((start, len(units)))
    return ranges


def layout(doc: Document, max_words: int) -> list[tuple[tuple[str, ...], int | None, list[str], list[tuple[int, str]]]]:
    """The units a document is chunked from: (heading path, page, blocks, units) per section or page.

    The document page replays this to place chunk anchors, so it must stay deterministic.
    """
    if doc.kind == "pdf":
        out = []
        for page_no, text in enumerate(doc.pages, start=1):
            blocks = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip()]
            out.append(((), page_no, blocks, units_of(blocks, max_words)))
        return out
    return [(path, None, blocks, units_of(blocks, max_words)) for path, blocks in sections(doc.body)]


ORDINALS = {
    "nb": ("første", "andre", "tredje", "fjerde", "femte", "sjette", "sjuende", "åttende", "niende", "tiende",
           "ellevte", "tolvte"),
    "nn": ("første", "andre", "tredje", "fjerde", "femte", "sjette", "sjuande", "åttande", "niande", "tiande",
           "ellevte", "tolvte"),
}


def ledd_label(first: int, last: int, language: str = "nb") -> str:
    """0-based ledd numbers → «første ledd», «første og andre ledd», «tredje til femte ledd»."""
    words = ORDINALS.get(language, ORDINALS["nb"])
    name = (lambda i: words[i] if i < len(words) else f"{i + 1}.")
    if first == last:
        return f"{name(first)} ledd"
    joiner = "og" if last == first + 1 else "til"
    return f"{name(first)} {joiner} {name(last)} ledd"


def ledd_ranges(blocks: list[str], units: list[tuple[int, str]]) -> list[tuple[int, int]]:
    """[start, end) unit ranges of a section's ledd: a paragraph and the list items that follow it."""
    starts = [b for b, block in enumerate(blocks) if not _LIST_ITEM.match(block) or b == 0]
    first_unit = {}
    for u, (b, _) in enumerate(units):
        first_unit.setdefault(b, u)
    bounds = [first_unit[b] for b in starts if b in first_unit] + [len(units)]
    return [(a, b) for a, b in zip(bounds, bounds[1:]) if b > a]


def _law_pieces(doc: Document, params: ChunkParams) -> list[tuple[str, tuple[str, ...], None, list]]:
    """One piece per §; a long § as groups of whole ledd of at most `max_words` (a longer ledd by sentences)."""
    pieces = []
    no_overlap = ChunkParams(params.target_words, params.max_words, 0)
    for sec, (heading_path, _page, blocks, units) in enumerate(layout(doc, params.max_words)):
        texts = [u for _, u in units]
        if not texts:
            continue
        if len(" ".join(texts).split()) <= params.max_words:
            pieces.append((" ".join(texts), heading_path, None, [(sec, 0, len(texts))]))
            continue
        ledd = ledd_ranges(blocks, units)
        groups: list[list[int]] = []
        for i, (a, b) in enumerate(ledd):
            words = len(" ".join(texts[a:b]).split())
            if groups and sum(len(" ".join(texts[x:y]).split()) for x, y in (ledd[j] for j in groups[-1])) \
                    + words <= params.max_words:
                groups[-1].append(i)
            else:
                groups.append([i])
        for g in groups:
            a, b = ledd[g[0]][0], ledd[g[-1]][1]
            path = heading_path + (ledd_label(g[0], g[-1], doc.language),)
            if len(" ".join(texts[a:b]).split()) <= params.max_words:
                pieces.append((" ".join(texts[a:b]), path, None, [(sec, a, b)]))
            else:  # one ledd longer than a passage: by sentences, still within the ledd
                for x, y in pack(texts[a:b], no_overlap):
                    pieces.append((" ".join(texts[a + x:a + y]), path, None, [(sec, a + x, a + y)]))
    return pieces


def chunk_document(doc: Document, params: ChunkParams) -> list[Chunk]:
    # (text, heading path, page, spans); a span is (section index, unit start, unit end)
    pieces: list[tuple[str, tuple[str, ...], int | None, list[tuple[int, int, int]]]] = []
    if doc.content_type == "lov":
        return [Chunk(doc.id, i, text, path, page, f"c{i}", tuple(spans))
                for i, (text, path, page, spans) in enumerate(_law_pieces(doc, params))]
    for sec, (heading_path, page, _blocks, units) in enumerate(layout(doc, params.max_words)):
        texts = [u for _, u in units]
        ranges = pack(texts, params)
        words = len(" ".join(texts).split())
        # A very short section joins the previous chunk when it fits, so it is not ranked alone.
        if page is None and words < MIN_SECTION_WORDS and len(ranges) == 1 and pieces and pieces[-1][2] is None \
                and len(pieces[-1][0].split()) + words <= params.max_words:
            prev_text, prev_path, _, spans = pieces[-1]
            heading = heading_path[-1] if heading_path else ""
            joined = " ".join(texts)
            pieces[-1] = (f"{prev_text} {heading}: {joined}" if heading else f"{prev_text} {joined}",
                          prev_path, None, spans + [(sec, 0, len(texts))])
            continue
        for a, b in ranges:
            pieces.append((" ".join(texts[a:b]), heading_path, page, [(sec, a, b)]))
    return [Chunk(doc.id, i, text, path, page, f"c{i}", tuple(spans))
            for i, (text, path, page, spans) in enumerate(pieces)]


def passage_text(doc: Document, chunk: Chunk) -> str:
    """What the embedding model sees: title and section give a short passage its context."""
    return passage_text_of(doc.title, chunk.heading_path, chunk.text)


def passage_text_of(title: str, heading_path, text: str) -> str:
    """passage_text from stored fields (an index's document and chunk tables)."""
    head = " › ".join(heading_path)
    return f"{title}. {head + '. ' if head else ''}{text}"
