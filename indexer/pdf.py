"""PDF → text per page, in a child process with time and memory bounds.

A broken or hostile PDF can make a parser loop or allocate without limit; running it in a
child process lets us kill it and report the file instead of hanging the whole build.
"""

from __future__ import annotations

import multiprocessing as mp
import re
import resource
from pathlib import Path

from .errors import DocumentError

MEMORY_LIMIT = 1024 * 1024 * 1024  # 1 GiB address space per PDF child

_HYPHEN_BREAK = re.compile(r"(\w)[-\u00ad]\s*\n\s*([a-zæøå])")
_SOFT_HYPHEN = "\u00ad"


def clean_page_text(text: str) -> str:
    """Join words hyphenated across lines (skole-\\nmiljø → skolemiljø) and tidy whitespace."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _HYPHEN_BREAK.sub(r"\1\2", text)
    text = text.replace(_SOFT_HYPHEN, "")
    text = re.sub(r"[ \t]+", " ", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def _extract(path: str, conn) -> None:
    try:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    except (ValueError, OSError):
        pass
    try:
        import logging

        logging.disable(logging.WARNING)  # pypdf warns on every recoverable xref problem
        from pypdf import PdfReader
        from pypdf.errors import DependencyError, FileNotDecryptedError

        try:
            reader = PdfReader(path, strict=False)
            if reader.is_encrypted:
                try:
                    ok = reader.decrypt("")
                except DependencyError:
                    conn.send(("error", "encrypted with AES; install the 'cryptography' package"))
                    return
                if not ok:
                    conn.send(("error", "encrypted: a password is required to open it"))
                    return
            pages = [clean_page_text(page.extract_text() or "") for page in reader.pages]
        except FileNotDecryptedError:
            conn.send(("error", "encrypted: a password is required to open it"))
            return
        except DependencyError as exc:
            conn.send(("error", f"needs an optional package: {exc}"))
            return
        conn.send(("ok", pages))
    except MemoryError:
        conn.send(("error", f"unreadable: used more than {MEMORY_LIMIT // 2**20} MiB while parsing"))
    except Exception as exc:  # noqa: BLE001 - any parser failure becomes a named, per-file error
        name = type(exc).__name__
        detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        conn.send(("error", f"unreadable PDF ({name}{': ' + detail if detail else ''})"))


def extract_pages(path: Path, timeout_s: float = 30.0) -> list[str]:
    """Text of each page. Raises DocumentError naming the file for every kind of failure."""
    if path.stat().st_size == 0:
        raise DocumentError(path, None, "unreadable PDF: the file is empty (0 bytes)")
    with path.open("rb") as fh:
        head = fh.read(1024)
    if b"%PDF-" not in head:
        raise DocumentError(path, None, "not a PDF: the file has no %PDF- header")
    # forkserver, not fork: the indexer process has model threads running, and a forked copy of a
    # multi-threaded process can fail in odd ways; the server is a clean process with pypdf preloaded.
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["indexer.pdf", "pypdf"])
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_extract, args=(str(path), child), daemon=True)
    proc.start()
    child.close()
    try:
        if not parent.poll(timeout_s):
            raise DocumentError(path, None, f"unreadable PDF: text extraction took longer than {timeout_s:g} s")
        status, payload = parent.recv()
    except EOFError:
        raise DocumentError(path, None, "unreadable PDF: the parser crashed (out of memory?)") from None
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join(5)
        parent.close()
    if status == "error":
        raise DocumentError(path, None, payload)
    if not any(p.strip() for p in payload):
        raise DocumentError(path, None, f"no text layer ({len(payload)} page(s) of images only); "
                            "run OCR on it or add a Markdown version")
    return payload
