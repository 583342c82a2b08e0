"""Request parameters → a validated SearchRequest. Every error names the parameter."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from .errors import BadParameter
from .index_store import Snapshot

MAX_K = 50
MAX_OFFSET = 500
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class SearchRequest:
    q: str
    filters: dict[str, list[str]] = field(default_factory=dict)
    k: int = 10
    offset: int = 0
    explain: bool = False


def clean_query(raw: str | None, max_chars: int) -> str:
    """Drop control characters (NUL included) and collapse whitespace; reject empty or over-long text."""
    text = unicodedata.normalize("NFC", raw or "")
    text = " ".join(_CONTROL.sub(" ", text).split())
    if not text:
        raise BadParameter("q", "is empty: write a question or some keywords, e.g. q=mobbing i friminuttet",
                           "Søket er tomt. Skriv et spørsmål eller noen stikkord.")
    if len(text) > max_chars:
        raise BadParameter("q", f"is {len(text)} characters long; the limit is {max_chars}. Shorten the question.",
                           f"Spørsmålet er {len(text)} tegn langt; grensen er {max_chars}. Gjør det kortere.")
    return text


def _int(name: str, raw: str | None, default: int, lo: int, hi: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise BadParameter(name, f"must be a whole number from {lo} to {hi} (got {str(raw)[:40]!r})") from None
    if not lo <= value <= hi:
        raise BadParameter(name, f"must be from {lo} to {hi} (got {value})")
    return value


def _values(name: str, raw, allowed: list[str]) -> list[str]:
    if raw is None:
        return []
    items = [raw] if isinstance(raw, str) else list(raw)
    out = []
    for item in items:
        for v in str(item).split(","):
            v = v.strip()
            if not v:
                continue
            if v not in allowed:
                raise BadParameter(name, f"has unknown value {v[:60]!r}; valid values: {', '.join(allowed)}",
                                   f"Ukjent filterverdi {v[:60]!r} for «{name}». Gyldige verdier: {', '.join(allowed)}.")
            if v not in out:
                out.append(v)
    return out


def parse_filters(snap: Snapshot, theme=None, content_type=None, audience=None, language=None) -> dict[str, list[str]]:
    from indexer.documents import AUDIENCES, CONTENT_TYPES, LANGUAGES

    return {
        "theme": _values("theme", theme, snap.theme_ids),
        "content_type": _values("content_type", content_type, list(CONTENT_TYPES)),
        "audience": _values("audience", audience, list(AUDIENCES)),
        "language": _values("language", language, list(LANGUAGES)),
    }


def parse_search(snap: Snapshot, max_chars: int, q=None, theme=None, content_type=None, audience=None,
                 language=None, k=None, offset=None, explain=None) -> SearchRequest:
    filters = parse_filters(snap, theme, content_type, audience, language)
    if explain not in (None, "", "true", "false", "1", "0"):
        raise BadParameter("explain", f"must be true or false (got {str(explain)[:40]!r})")
    return SearchRequest(
        q=clean_query(q, max_chars),
        filters=filters,
        k=_int("k", k, 10, 1, MAX_K),
        offset=_int("offset", offset, 0, 0, MAX_OFFSET),
        explain=explain in ("true", "1"),
    )
