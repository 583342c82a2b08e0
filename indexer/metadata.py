"""Front matter (Markdown) and sidecar (PDF) metadata → validated fields.

Every error names the file and the field, and says what a valid value looks like.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

from .documents import AUDIENCES, CONTENT_TYPES, LANGUAGES, Source
from .errors import DocumentError

ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_QUESTIONS = 30
MAX_QUESTION_CHARS = 300
REQUIRED = ("id", "title", "themes", "content_type", "audience", "publisher", "source_url",
            "published", "language", "sources", "last_reviewed")


def validate_metadata(meta: dict, path: Path, theme_ids: set[str]) -> dict:
    """Return clean metadata fields or raise DocumentError naming the first bad field."""
    if not isinstance(meta, dict) or not meta:
        raise DocumentError(path, None, "has no front matter; start the file with '---', the fields "
                            f"({', '.join(REQUIRED)}) and '---'")
    missing = [k for k in REQUIRED if k not in meta or meta[k] in (None, "", [])]
    if missing:
        raise DocumentError(path, missing[0], f"is missing (required fields: {', '.join(REQUIRED)})")

    doc_id = str(meta["id"])
    if not ID_RE.match(doc_id):
        raise DocumentError(path, "id", f"{doc_id!r} is not a slug: use lowercase a-z, 0-9 and '-' (no æøå)")
    themes = _str_list(meta["themes"], path, "themes")
    unknown = [t for t in themes if t not in theme_ids]
    if unknown:
        raise DocumentError(path, "themes", f"unknown theme {unknown[0]!r}; known themes: {', '.join(sorted(theme_ids))}")
    ctype = str(meta["content_type"])
    if ctype not in CONTENT_TYPES:
        raise DocumentError(path, "content_type", f"{ctype!r} is not one of: {', '.join(CONTENT_TYPES)}")
    audience = _str_list(meta["audience"], path, "audience")
    bad = [a for a in audience if a not in AUDIENCES]
    if bad:
        raise DocumentError(path, "audience", f"{bad[0]!r} is not one of: {', '.join(AUDIENCES)}")
    language = str(meta["language"])
    if language not in LANGUAGES:
        raise DocumentError(path, "language", f"{language!r} is not one of: {', '.join(LANGUAGES)}")
    url = str(meta["source_url"])
    if not url.startswith(("https://", "http://")):
        raise DocumentError(path, "source_url", f"{url!r} must be a full http(s) URL")
    return {
        "id": doc_id,
        "title": " ".join(str(meta["title"]).split()),
        "themes": tuple(themes),
        "content_type": ctype,
        "audience": tuple(audience),
        "publisher": str(meta["publisher"]).strip(),
        "source_url": url,
        "published": _date(meta["published"], path, "published"),
        "language": language,
        "sources": _sources(meta["sources"], path),
        "last_reviewed": _date(meta["last_reviewed"], path, "last_reviewed"),
        "questions": _questions(meta.get("questions"), path),
    }


def _str_list(value, path: Path, name: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise DocumentError(path, name, "must be a non-empty list of strings, e.g. [a, b]")
    return [v.strip() for v in value]


def _questions(value, path: Path) -> tuple[str, ...]:
    """Optional: questions a practitioner would type that the document answers."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise DocumentError(path, "questions", "must be a list of questions, one per line starting with '- '")
    if len(value) > MAX_QUESTIONS:
        raise DocumentError(path, "questions", f"has {len(value)} questions; at most {MAX_QUESTIONS}")
    out = []
    for i, q in enumerate(value):
        text = " ".join(str(q).split()) if isinstance(q, (str, int, float)) else ""
        if not text:
            raise DocumentError(path, f"questions[{i}]", "is empty or not text; write the question in quotes")
        if len(text) > MAX_QUESTION_CHARS:
            raise DocumentError(path, f"questions[{i}]", f"is {len(text)} characters; at most {MAX_QUESTION_CHARS}")
        out.append(text)
    return tuple(out)


def _date(value, path: Path, name: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise DocumentError(path, name, f"{value!r} is not a date; write YYYY-MM-DD") from None


def _sources(value, path: Path) -> tuple[Source, ...]:
    if not isinstance(value, list) or not value:
        raise DocumentError(path, "sources", "must be a non-empty list of {title, url} (or {title, doi})")
    out = []
    for i, item in enumerate(value):
        if not isinstance(item, dict) or not item.get("title"):
            raise DocumentError(path, f"sources[{i}]", "needs a 'title' and a 'url' or 'doi'")
        url = item.get("url") or (f"https://doi.org/{item['doi']}" if item.get("doi") else "")
        if not str(url).startswith(("https://", "http://")):
            raise DocumentError(path, f"sources[{i}].url", f"{url!r} must be a full http(s) URL or give a 'doi'")
        out.append(Source(" ".join(str(item["title"]).split()), str(url)))
    return tuple(out)
