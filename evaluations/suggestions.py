"""«Mente du» on the practitioner suite: which questions get a suggestion, per group.

Only the typo group is misspelt on purpose, so a suggestion elsewhere is a correct word «corrected»
(search_api/spelling.py); those are listed by name.
"""

from __future__ import annotations

from indexer.settings import Settings

from .harness import suite_index
from .suites import Suite


def suggestion_report(suite: Suite, base: Settings) -> list[str]:
    from search_api.expand import plan, suggest

    snap = suite_index(suite, base)
    groups = suite.groups("group")
    got = {q: suggest(snap, suite.queries[q], plan(snap, suite.queries[q])) for q in suite.qrels}
    lines = ["«Mente du» (only the typo group is misspelt on purpose):", "",
             "| group (n) | questions with a suggestion |", "|---|---:|"]
    lines += [f"| {g} ({len(qids)}) | {sum(1 for q in qids if got[q])} |" for g, qids in groups.items()]
    for g, qids in groups.items():
        for q in qids:
            if got[q] and g != "typo":
                lines.append(f"- {g}: «{suite.queries[q]}» → «{got[q]}»")
    return lines
