"""Request parameters → a validated SearchRequest. Every error names the parameter."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Mapping, Sequence

from indexer.errors import BadParameter
from indexer.filters import FILTERS

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


def raw_filters(query_params) -> dict[str, list[str]]:
    """The filter parameters of a query string (each repeatable), as typed; `parse_filters` checks them."""
    return {f.param: query_params.getall(f.param, []) for f in FILTERS}


def parse_filters(snap: Snapshot, raw: Mapping[str, Sequence[str] | str | None]) -> dict[str, list[str]]:
    """Every filter of the table (`indexer/filters.py`), by its query parameter; values checked against
    this generation's allowed values."""
    return {f.param: _values(f.param, raw.get(f.param), snap.allowed(f)) for f in FILTERS}


def parse_search(snap: Snapshot, max_chars: int, q=None, filters: Mapping | None = None, k=None, offset=None,
                 explain=None) -> SearchRequest:
    """The JSON API's parameters, as typed in the query string."""
    parsed = parse_filters(snap, filters or {})
    if explain not in (None, "", "true", "false", "1", "0"):
        raise BadParameter("explain", f"must be true or false (got {str(explain)[:40]!r})")
    return SearchRequest(
        q=clean_query(q, max_chars),
        filters=parsed,
        k=_int("k", k, 10, 1, MAX_K),
        offset=_int("offset", offset, 0, 0, MAX_OFFSET),
        explain=explain in ("true", "1"),
    )


def parse_page_number(side: str | None, last: int) -> int:
    """The search page's `side` (1-based page number)."""
    if side in (None, ""):
        return 1
    if not side.isdigit() or not 1 <= int(side) <= last:
        raise BadParameter("side", f"must be a page number from 1 to {last} (got {side[:20]!r})",
                           f"Sidetallet må være fra 1 til {last} (fikk {side[:20]!r}).")
    return int(side)
