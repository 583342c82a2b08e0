"""Write one index generation (tantivy + FAISS + chunk table + manifest) and swap it in atomically.

Layout of SOVEI_INDEX_DIR:
    current  -> gen-<stamp>   (symlink the service follows)
    previous -> gen-<stamp>   (what `make index-rollback` restores)
    gen-*/                    complete generations
    .building-*/              a build in progress; never read; removed by the next build
A generation folder is renamed into place only when complete, and `current` is replaced with
os.replace, so a reader sees the old index or the new one, never a mix, and a killed build
leaves only a `.building-*` folder behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np
import tantivy

from . import analysis
from .documents import Acute, Chunk, Document, Theme
from .filters import FILTERS
from .manifest import QUESTION_VECTORS, TANTIVY_DIR, VECTORS, Manifest
from .tables import write_tables

KEEP_GENERATIONS = 3
ANN_THRESHOLD = 100_000
"""Below this many passages the index is exact (IndexFlatIP); from it on, IVF with 8-bit scalar
quantisation: flat search passes 20 ms at about 130k passages (15 ms at 100k, 148 ms at 1M, make bench)."""


def vector_index_for(n: int, dim: int, train=None, force_ann: bool = False):
    """(index, search parameters) for n vectors: exact below ANN_THRESHOLD, IVF-SQ8 above."""
    if n < ANN_THRESHOLD and not force_ann:
        return faiss.IndexFlatIP(dim), None
    nlist = max(16, int(4 * np.sqrt(n)))
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFScalarQuantizer(quantizer, dim, nlist, faiss.ScalarQuantizer.QT_8bit,
                                          faiss.METRIC_INNER_PRODUCT)
    if train is not None:
        sample = train if len(train) <= 100_000 else train[np.random.default_rng(0).choice(len(train), 100_000, replace=False)]
        index.train(np.ascontiguousarray(sample, dtype=np.float32))
    index.nprobe = max(8, nlist // 64)
    return index, faiss.SearchParametersIVF(nprobe=index.nprobe)


def schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_integer_field("chunk_id", stored=True, indexed=True, fast=True)
    sb.add_text_field("title", stored=False, tokenizer_name=analysis.ANALYZER)
    sb.add_text_field("text", stored=False, tokenizer_name=analysis.ANALYZER)
    for name in ("doc_id", *(f.index_field for f in FILTERS)):
        sb.add_text_field(name, stored=False, tokenizer_name="raw")
    return sb.build()


def write_generation(folder: Path, docs: list[Document], chunks: list[Chunk], vectors: np.ndarray,
                     manifest: Manifest, themes: list[Theme], acute: Acute = Acute(),
                     questions: list[tuple[str, str]] = (), question_vectors: np.ndarray | None = None) -> None:
    by_id = {d.id: d for d in docs}
    (folder / TANTIVY_DIR).mkdir(parents=True)
    index = tantivy.Index(schema(), path=str(folder / TANTIVY_DIR))
    analysis.register(index)
    writer = index.writer(heap_size=64_000_000, num_threads=1)
    for row, chunk in enumerate(chunks):
        doc = by_id[chunk.doc_id]
        tdoc = tantivy.Document()
        tdoc.add_integer("chunk_id", row)
        tdoc.add_text("title", doc.title)
        tdoc.add_text("text", " ".join([doc.title, *chunk.heading_path, chunk.text]))
        tdoc.add_text("doc_id", doc.id)
        for f in FILTERS:
            for value in f.of(doc):
                tdoc.add_text(f.index_field, value)
        writer.add_document(tdoc)
    writer.commit()
    writer.wait_merging_threads()

    vec_index, _ = vector_index_for(len(vectors), manifest.dimension, train=vectors)
    if len(vectors):
        vec_index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    faiss.write_index(vec_index, str(folder / VECTORS))
    q_index, _ = vector_index_for(len(questions), manifest.dimension, train=question_vectors)
    if len(questions):
        q_index.add(np.ascontiguousarray(question_vectors, dtype=np.float32))
    faiss.write_index(q_index, str(folder / QUESTION_VECTORS))
    write_tables(folder, docs, chunks, themes, acute, questions)
    manifest.write(folder)


def new_build_folder(index_dir: Path) -> Path:
    index_dir.mkdir(parents=True, exist_ok=True)
    for stale in index_dir.glob(".building-*"):
        shutil.rmtree(stale, ignore_errors=True)  # left by a build that was killed
    return Path(tempfile.mkdtemp(prefix=".building-", dir=index_dir))


def _point(index_dir: Path, name: str, target: str) -> None:
    tmp = index_dir / f".{name}.{os.getpid()}.tmp"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(target, tmp)
    os.replace(tmp, index_dir / name)


def publish(index_dir: Path, build_folder: Path) -> Path:
    """Move a finished build into place and make it current; keep the old one as `previous`."""
    stamp = time.strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}-{time.monotonic_ns() % 10**6:06d}"
    return swap_in(index_dir, build_folder, f"gen-{stamp}")


def swap_in(index_dir: Path, folder: Path, name: str) -> Path:
    """Rename a complete generation folder to `name` in index_dir and make it current (a build, an install)."""
    gen = index_dir / name
    os.replace(folder, gen)
    make_current(index_dir, name)
    return gen


def make_current(index_dir: Path, name: str) -> None:
    """Point `current` at the generation `name`; the one it pointed at becomes `previous`."""
    current = index_dir / "current"
    if current.is_symlink():
        if os.readlink(current) == name:
            return
        _point(index_dir, "previous", os.readlink(current))
    _point(index_dir, "current", name)
    _prune(index_dir)


def rollback(index_dir: Path) -> Path:
    """Make `previous` current again (and the current one previous)."""
    prev, cur = index_dir / "previous", index_dir / "current"
    if not prev.is_symlink() or not prev.resolve().exists():
        raise FileNotFoundError(f"No previous index generation in {index_dir} to roll back to.")
    old_prev, old_cur = os.readlink(prev), os.readlink(cur)
    _point(index_dir, "current", old_prev)
    _point(index_dir, "previous", old_cur)
    return index_dir / old_prev


def _prune(index_dir: Path) -> None:
    keep = {os.readlink(index_dir / n) for n in ("current", "previous") if (index_dir / n).is_symlink()}
    gens = sorted(index_dir.glob("gen-*"), key=lambda p: p.stat().st_mtime, reverse=True)
    for gen in gens[KEEP_GENERATIONS:]:
        if gen.name not in keep:
            shutil.rmtree(gen, ignore_errors=True)
