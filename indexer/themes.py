"""corpus/themes.yml → Theme records."""

from __future__ import annotations

from pathlib import Path

import yaml

from .documents import Acute, Theme
from .errors import DocumentError

REQUIRED = ("id", "label", "label_nn", "description")


def load_themes(path: Path) -> list[Theme]:
    if not path.exists():
        raise DocumentError(path, None, "themes file not found; every corpus needs corpus/themes.yml")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise DocumentError(path, None, f"not valid YAML: {exc}") from None
    items = data.get("themes") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        raise DocumentError(path, "themes", "must be a non-empty list of themes")
    themes, seen = [], set()
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise DocumentError(path, f"themes[{i}]", "must be a mapping with id, label, label_nn, description")
        for key in REQUIRED:
            if not isinstance(item.get(key), str) or not item[key].strip():
                raise DocumentError(path, f"themes[{i}].{key}", "is missing or empty")
        if item["id"] in seen:
            raise DocumentError(path, f"themes[{i}].id", f"duplicate theme id {item['id']!r}")
        seen.add(item["id"])
        synonyms = item.get("synonyms") or []
        if not isinstance(synonyms, list) or not all(isinstance(s, str) for s in synonyms):
            raise DocumentError(path, f"themes[{i}].synonyms", "must be a list of strings")
        themes.append(Theme(item["id"], item["label"].strip(), item["label_nn"].strip(),
                            " ".join(item["description"].split()), tuple(s.strip().lower() for s in synonyms)))
    return themes


def find_themes_file(corpus_dirs) -> Path:
    """The first corpus folder that has a themes.yml defines the themes."""
    for d in corpus_dirs:
        if (Path(d) / "themes.yml").exists():
            return Path(d) / "themes.yml"
    return Path(corpus_dirs[0]) / "themes.yml"


def load_acute(path: Path) -> Acute:
    """The `acute` block of themes.yml: the emergency document's id and the phrases that trigger it."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return Acute()
    acute = data.get("acute") or {}
    if not isinstance(acute, dict):
        raise DocumentError(path, "acute", "must be a mapping with 'document' and 'phrases'")
    phrases = acute.get("phrases") or []
    if not isinstance(phrases, list) or not all(isinstance(p, str) for p in phrases):
        raise DocumentError(path, "acute.phrases", "must be a list of strings")
    return Acute(str(acute.get("document", "")), tuple(p.lower() for p in phrases))
