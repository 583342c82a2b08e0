"""PDF → text per page, in a child process with time and memory bounds.

A broken or hostile PDF can make a parser loop or allocate without limit; running it in a
child process (`python -m indexer.pdf FILE`) lets us kill it and report the file instead of hanging
the whole build.
"""

from __future__ import annotations

import json
import re
import resource
import subprocess
import sys
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


def _extract(path: str) -> tuple[str, object]:
    """Runs in the worker process: ("ok", pages) or ("error", reason)."""
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
                    return "error", "encrypted with AES; install the 'cryptography' package"
                if not ok:
                    return "error", "encrypted: a password is required to open it"
            return "ok", [clean_page_text(page.extract_text() or "") for page in reader.pages]
        except FileNotDecryptedError:
            return "error", "encrypted: a password is required to open it"
        except DependencyError as exc:
            return "error", f"needs an optional package: {exc}"
    except MemoryError:
        return "error", f"unreadable: used more than {MEMORY_LIMIT // 2**20} MiB while parsing"
    except Exception as exc:  # noqa: BLE001 - any parser failure becomes a named, per-file error
        name = type(exc).__name__
        detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        return "error", f"unreadable PDF ({name}{': ' + detail if detail else ''})"


def extract_pages(path: Path, timeout_s: float = 30.0) -> list[str]:
    """Text of each page. Raises DocumentError naming the file for every kind of failure."""
    if path.stat().st_size == 0:
        raise DocumentError(path, None, "unreadable PDF: the file is empty (0 bytes)")
    with path.open("rb") as fh:
        head = fh.read(1024)
    if b"%PDF-" not in head:
        raise DocumentError(path, None, "not a PDF: the file has no %PDF- header")
    # A separate interpreter, not a fork: the indexer has model threads running, and a forked copy
    # of a multi-threaded process can fail in odd ways. Costs ~0.2 s per PDF.
    try:
        proc = subprocess.run([sys.executable, "-m", "indexer.pdf", str(path)], capture_output=True,
                              timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        raise DocumentError(path, None, f"unreadable PDF: text extraction took longer than {timeout_s:g} s") from None
    try:
        status, payload = json.loads(proc.stdout.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise DocumentError(path, None, f"unreadable PDF: the parser crashed (exit code {proc.returncode}, "
                            "out of memory?)") from None
    if status == "error":
        raise DocumentError(path, None, payload)
    if not any(p.strip() for p in payload):
        raise DocumentError(path, None, f"no text layer ({len(payload)} page(s) of images only); "
                            "run OCR on it or add a Markdown version")
    return payload


if __name__ == "__main__":
    sys.stdout.write(json.dumps(_extract(sys.argv[1]), ensure_ascii=False))
