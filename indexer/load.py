"""Corpus folders → Document records (Markdown with front matter; PDFs with a sidecar), and the law texts of
SOVEI_LAW_DIRS through their own adapter (`laws.py`)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import frontmatter
import yaml

from .documents import Document, LoadResult
from .errors import DocumentError
from .laws import load_laws, load_mapping
from .metadata import validate_metadata
from .pdf import extract_pages

SKIP_NAMES = {"README.md", "themes.yml"}
MAX_FILE_BYTES = 20 * 1024 * 1024


def corpus_files(corpus_dirs) -> list[tuple[Path, Path]]:
    """(corpus_dir, file) for every Markdown and PDF file, in a stable order."""
    out = []
    for d in corpus_dirs:
        d = Path(d)
        if not d.is_dir():
            raise DocumentError(d, None, "corpus folder not found; check SOVEI_CORPUS_DIRS / CORPUS_DIRS")
        for p in sorted(d.rglob("*")):
            if p.is_file() and p.suffix.lower() in (".md", ".pdf") and p.name not in SKIP_NAMES \
                    and not any(part.startswith(".") for part in p.relative_to(d).parts):
                out.append((d, p))
    return out


def display_path(corpus_dir: Path, path: Path) -> str:
    return str(Path(corpus_dir.name) / path.relative_to(corpus_dir))


def load_document(corpus_dir: Path, path: Path, theme_ids: set[str], pdf_timeout_s: float = 30.0) -> Document:
    shown = display_path(corpus_dir, path)
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise DocumentError(shown, None, f"file is {size / 2**20:.1f} MiB; the limit is "
                            f"{MAX_FILE_BYTES // 2**20} MiB — split it or compress its images")
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if path.suffix.lower() == ".md":
        return _load_markdown(shown, data, digest, theme_ids)
    return _load_pdf(shown, path, digest, theme_ids, pdf_timeout_s)


def _load_markdown(shown: str, data: bytes, digest: str, theme_ids: set[str]) -> Document:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError(shown, None, f"is not UTF-8 (byte {exc.start}); save it as UTF-8") from None
    try:
        post = frontmatter.loads(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark else ""
        raise DocumentError(shown, "front matter", f"is not valid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    raw = post.metadata
    if "id" not in raw and "refid" in raw and "tittel" in raw:
        raise DocumentError(shown, "refid", "is a law text (norwegian-laws format), not a bank document; put its "
                            "folder in SOVEI_LAW_DIRS instead of the corpus folders")
    meta = validate_metadata(raw, Path(shown), theme_ids)
    body = post.content.strip()
    if len(body.split()) < 20:
        raise DocumentError(shown, "body", f"has {len(body.split())} words; a document needs at least 20")
    return Document(**meta, path=shown, kind="markdown", body=body, sha256=digest)


def _load_pdf(shown: str, path: Path, digest: str, theme_ids: set[str], timeout_s: float) -> Document:
    sidecar = path.with_name(path.name + ".yml")
    if not sidecar.exists():
        raise DocumentError(shown, None, f"has no sidecar metadata file; create {sidecar.name} "
                            "with the same fields as Markdown front matter")
    try:
        meta_raw = yaml.safe_load(sidecar.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise DocumentError(str(Path(shown).with_name(sidecar.name)), None, f"is not valid YAML: {exc}") from None
    meta = validate_metadata(meta_raw, Path(shown).with_name(sidecar.name), theme_ids)
    pages = extract_pages(path, timeout_s)
    side_digest = hashlib.sha256(sidecar.read_bytes()).hexdigest()
    return Document(**meta, path=shown, kind="pdf", pages=tuple(pages),
                    sha256=hashlib.sha256((digest + side_digest).encode()).hexdigest())


def load_corpus(corpus_dirs, theme_ids: set[str], pdf_timeout_s: float = 30.0, progress=None,
                law_dirs=()) -> LoadResult:
    """Load every document, then the law texts of `law_dirs` (one document per chapter); collect problems
    instead of stopping at the first one. Laws not in force are left out and listed in `not_in_force`."""
    result = LoadResult()
    seen: dict[str, str] = {}
    files = corpus_files(corpus_dirs)
    docs = []
    for corpus_dir, path in (progress(files) if progress else files):
        try:
            docs.append(load_document(corpus_dir, path, theme_ids, pdf_timeout_s))
        except DocumentError as exc:
            result.problems.append(exc)
    if law_dirs:
        try:
            laws = load_laws(law_dirs, load_mapping(corpus_dirs, theme_ids))
        except DocumentError as exc:  # the mapping file itself
            result.problems.append(exc)
        else:
            docs += laws.documents
            result.problems += laws.problems
            result.laws, result.not_in_force = laws.laws, laws.not_in_force
    for doc in docs:
        if doc.id in seen:
            result.problems.append(DocumentError(doc.path, "id", f"duplicate id {doc.id!r}, also used by {seen[doc.id]}"))
            continue
        seen[doc.id] = doc.path
        result.documents.append(doc)
    return result
