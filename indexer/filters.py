"""The filter fields, in one table: the writer indexes them, the snapshot builds their masks, the service
parses them from the query string, and the page shows them.

Adding a filter is one line in `FILTERS` plus its data: the `Document` field it reads (validated in
`metadata.py`) and, for a field with a fixed list of values, that list and its labels.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

from .documents import AUDIENCES, CONTENT_TYPES, LANGUAGES


@dataclass(frozen=True)
class FilterField:
    param: str
    """Query parameter (repeatable, any-of) and the key in a search's filters."""
    attr: str
    """The `Document` field it reads: a string or a tuple of strings («themes» for the parameter «theme»)."""
    label: str
    """What the page calls it (bokmål)."""
    values: tuple[str, ...] | None = None
    """The allowed values, in the order shown; None: the themes of `themes.yml` (the index's theme table)."""
    value_labels: Mapping[str, str] = field(default_factory=dict)
    """What the page calls each value; the themes' labels come from `themes.yml`."""
    index_field: str = ""
    """The tantivy field (raw tokenizer) the BM25 retriever filters on; default: the parameter's name."""
    chips: bool = False
    """Shown as chips with per-value hit counts (the themes) instead of a drop-down."""

    def __post_init__(self):
        if not self.index_field:
            object.__setattr__(self, "index_field", self.param)
        object.__setattr__(self, "value_labels", MappingProxyType(dict(self.value_labels)))

    def of(self, doc) -> tuple[str, ...]:
        """The document's values for this field (always a tuple)."""
        value = getattr(doc, self.attr)
        return (value,) if isinstance(value, str) else tuple(value)


FILTERS: tuple[FilterField, ...] = (
    FilterField("theme", "themes", "Tema", chips=True),
    FilterField("content_type", "content_type", "Type", CONTENT_TYPES, {
        "kunnskap": "Kunnskap", "veileder": "Veileder", "undervisningsmateriell": "Undervisningsmateriell",
        "kontakt": "Kontakt", "kursmodul": "Kursmodul", "webinar": "Webinar", "forskning": "Forskning"}),
    FilterField("audience", "audience", "Målgruppe", AUDIENCES, {
        "sosialfaglig": "Sosialfaglig ansatte", "laerer": "Lærere", "foreldre": "Foreldre", "elever": "Elever",
        "tjenester": "Hjelpetjenester"}),
    FilterField("language", "language", "Språk", LANGUAGES, {"nb": "Bokmål", "nn": "Nynorsk", "en": "Engelsk"}),
)
BY_PARAM: Mapping[str, FilterField] = MappingProxyType({f.param: f for f in FILTERS})
