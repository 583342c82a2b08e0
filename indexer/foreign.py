"""Front matter from other publishers → the bank's fields, by a mapping file in corpus/mappings/.

Only Lovdata's law texts are mapped today: their front matter names the law (`tittel`, `refid`,
`lovdata-url`) instead of our fields, and the mapping supplies themes, audience and language.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from .errors import DocumentError

MAPPINGS_DIR = "mappings"


def load_mappings(corpus_dirs) -> dict:
    for d in corpus_dirs:
        path = Path(d) / MAPPINGS_DIR / "lovdata.yml"
        if path.exists():
            try:
                return {"lovdata": yaml.safe_load(path.read_text(encoding="utf-8")) or {}}
            except yaml.YAMLError as exc:
                raise DocumentError(path, None, f"is not valid YAML: {exc}") from None
    return {}


def is_lovdata(meta: dict) -> bool:
    return "id" not in meta and "refid" in meta and "tittel" in meta


def map_lovdata(meta: dict, mappings: dict, shown: str) -> dict:
    """Our front matter for a Lovdata law text, or DocumentError (not in force, no mapping)."""
    mapping = mappings.get("lovdata")
    if not mapping:
        raise DocumentError(shown, "refid", "looks like a Lovdata law text, but corpus/mappings/lovdata.yml "
                            "is missing; add it to map the law's metadata")
    if meta.get("i-kraft") is False:
        raise DocumentError(shown, "i-kraft", "the law is passed but not in force; not indexed, so it is never "
                            "cited as current law")
    refid = str(meta["refid"])
    fields = {**mapping.get("defaults", {}), **(mapping.get("by_refid", {}) or {}).get(refid, {})}
    title = str(meta.get("korttittel") or meta["tittel"])
    url = str(meta.get("lovdata-url") or f"https://lovdata.no/{refid}")
    date = meta.get("sist-endret-ikrafttredelse") or meta.get("ikrafttredelse")
    return {
        "id": re.sub(r"[^a-z0-9]+", "-", refid.lower()).strip("-"),
        "title": title,
        "themes": fields.get("themes"),
        "content_type": fields.get("content_type"),
        "audience": fields.get("audience"),
        "publisher": fields.get("publisher", "Lovdata"),
        "source_url": url,
        "published": date,
        "language": fields.get("language", "nb"),
        "sources": [{"title": f"{meta['tittel']} ({refid.upper()}), {meta.get('lisens', 'NLOD 2.0')}", "url": url}],
        "last_reviewed": date,
    }
