"""The nynorsk questions asked again in bokmål: what the language costs on the same questions.

The practitioner suite's nynorsk and bokmål groups hold different questions, so the gap between the two
groups mixes language with difficulty. `suites/practitioner/nynorsk-in-bokmal.jsonl` holds a bokmål
translation of every nynorsk question (same judgments); scoring both separates the two.
"""

from __future__ import annotations

import dataclasses

from indexer.errors import SuiteMissing
from indexer.settings import Settings

from .harness import SystemResult, group_means, query_vectors, run_system, suite_index
from .suites import SUITES_DIR, Suite, read_queries
from .systems import settings_for

TRANSLATIONS = SUITES_DIR / "practitioner" / "nynorsk-in-bokmal.jsonl"


def translations(suite: Suite) -> dict[str, str]:
    """Question id -> bokmål text; every id must be a nynorsk question of the suite."""
    if suite.name != "practitioner" or not TRANSLATIONS.exists():
        return {}
    texts, _ = read_queries(TRANSLATIONS)
    wrong = [q for q in texts if suite.query_meta.get(q, {}).get("group") != "nynorsk"]
    if wrong:
        raise SuiteMissing(f"{TRANSLATIONS}: not nynorsk questions of the suite: {', '.join(wrong)}")
    return texts


def translation_report(suite: Suite, systems: dict[str, dict], base: Settings,
                       results: list[SystemResult]) -> list[str]:
    texts = translations(suite)
    if not texts:
        return []
    groups = suite.groups("group")
    lines = ["The same questions in nynorsk and in bokmål (nDCG@10; the groups hold different questions, "
             "this pair does not):",
             "| system | nynorsk group | the same questions in bokmål | bokmål group | gap, same questions |",
             "|---|---:|---:|---:|---:|"]
    ids = list(texts)
    sub = dataclasses.replace(suite, queries={**suite.queries, **texts},
                              qrels={q: suite.qrels[q] for q in ids if q in suite.qrels})
    vectors: dict[str, dict] = {}  # per model: the translations embedded once
    for r in results:
        s = settings_for(base, systems[r.name])
        if s.model not in vectors:
            vectors[s.model] = query_vectors(sub, s)
        translated = run_system(r.name, sub, suite_index(suite, s), s, vectors[s.model])
        nn = group_means(r, ids, "ndcg@10")
        nb_same = group_means(translated, ids, "ndcg@10")
        nb_group = group_means(r, groups.get("bokmal", []), "ndcg@10")
        lines.append(f"| {r.name} ({len(ids)}) | {nn:.4f} | {nb_same:.4f} | {nb_group:.4f} | "
                     f"{(nn - nb_same) / nb_same:+.1%} |")
    return lines
