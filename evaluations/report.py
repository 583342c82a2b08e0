"""Tables (Markdown), result files and charts for one suite's results."""

from __future__ import annotations

import json
import math
from pathlib import Path

from .harness import METRICS, SystemResult, group_means
from .suites import Suite


def _f(x: float) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.4f}"


def main_table(results: list[SystemResult]) -> str:
    metrics = list(results[0].means)  # METRICS, plus the grade-2 metrics on graded suites
    lines = ["| system | " + " | ".join(metrics) + " |", "|---|" + "---:|" * len(metrics)]
    for r in results:
        lines.append(f"| {r.name} | " + " | ".join(_f(r.means[m]) for m in metrics) + " |")
    return "\n".join(lines)


def robustness_margin(results: list[SystemResult], metric: str = "ndcg@10") -> float | None:
    """Served hybrid minus the better of BM25 and dense alone (None unless all three ran)."""
    by = {r.name: r.means[metric] for r in results if metric in r.means}
    if not {"hybrid", "bm25", "dense"} <= set(by):
        return None
    return by["hybrid"] - max(by["bm25"], by["dense"])


def robustness_line(suite: Suite, results: list[SystemResult]) -> str:
    margin = robustness_margin(results)
    if margin is None or not suite.robustness:
        return ""
    verdict = "holds" if margin >= 0 else "FAILS"
    return f"Hybrid − better single retriever (nDCG@10): {margin:+.4f} ({verdict}: the hybrid must not be below either)."


def group_table(suite: Suite, results: list[SystemResult], key: str, metric: str = "ndcg@10") -> str:
    groups = suite.groups(key)
    if not groups:
        return ""
    lines = [f"| {key} (n) | " + " | ".join(r.name for r in results) + " |", "|---|" + "---:|" * len(results)]
    for g, qids in groups.items():
        lines.append(f"| {g} ({len(qids)}) | " + " | ".join(_f(group_means(r, qids, metric)) for r in results) + " |")
    return "\n".join(lines)


QUERY_LANGUAGE = {"english": "en", "nynorsk": "nn"}  # other groups are bokmål


def cross_language(suite: Suite, results: list[SystemResult]) -> str:
    """Judged documents in another language than the question's: how many reach the top 10."""
    lang = {d.id: d.language for d in suite.documents}
    rows: dict[str, list] = {"same language (reference)": [], "English question → Norwegian document": [],
                             "Norwegian question → English document": [], "nynorsk question → bokmål document": [],
                             "bokmål question → nynorsk document": []}
    for qid, judged in suite.qrels.items():
        q_lang = QUERY_LANGUAGE.get(suite.query_meta.get(qid, {}).get("group", ""), "nb")
        for doc, grade in judged.items():
            d_lang = lang.get(doc)
            if grade < 1 or d_lang is None:
                continue
            key = ("same language (reference)" if d_lang == q_lang else
                   "English question → Norwegian document" if q_lang == "en" else
                   "Norwegian question → English document" if d_lang == "en" else
                   "nynorsk question → bokmål document" if q_lang == "nn" else "bokmål question → nynorsk document")
            rows[key].append((qid, doc))
    if not any(rows.values()):
        return ""
    lines = ["| judged pair (n) | " + " | ".join(r.name for r in results) + " |", "|---|" + "---:|" * len(results)]
    top10 = [{qid: set(sorted(row, key=lambda d: -row[d])[:10]) for qid, row in r.run.items()} for r in results]
    for key, pairs in rows.items():
        if not pairs:
            continue
        cells = []
        for top in top10:
            found = sum(1 for qid, doc in pairs if doc in top.get(qid, ()))
            cells.append(f"{found / len(pairs):.0%}")
        lines.append(f"| {key} ({len(pairs)}) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def pooling_table(suite: Suite, results: list[SystemResult]) -> str:
    """nDCG@10 with the judgments written with the questions only, beside the pooled ones: how much of a score
    depends on the documents that pooling judged (documents unjudged at first count as not relevant)."""
    if not suite.qrels_written:
        return ""
    from ranx import Qrels, Run, evaluate

    lines = ["| system | written judgments only | with pooled judgments | difference |", "|---|---:|---:|---:|"]
    for r in results:
        written = float(evaluate(Qrels(suite.qrels_written), Run(r.run), "ndcg@10", make_comparable=True))
        pooled = r.means["ndcg@10"]
        lines.append(f"| {r.name} | {written:.4f} | {pooled:.4f} | {pooled - written:+.4f} |")
    return "\n".join(lines)


def render(suite: Suite, results: list[SystemResult]) -> str:
    if suite.parts:
        size = len(suite.parts[0].documents)
        head = (f"## {suite.name}: {len(suite.qrels)} queries over {len(suite.parts)} random collections of {size} "
                f"of the bank's documents (a question counts where one of its grade-2 documents is in the collection)")
    else:
        head = f"## {suite.name}: {len(suite.qrels)} queries, {len(suite.documents)} documents"
    parts = [head, "", main_table(results)]
    t = robustness_line(suite, results)
    if t:
        parts += ["", t]
    for key in ("group", "theme"):
        t = group_table(suite, results, key)
        if t:
            parts += ["", f"nDCG@10 per {key}:", "", t]
    t = pooling_table(suite, results)
    if t:
        parts += ["", "nDCG@10 before and after pooling (see evaluations/README.md, «Pooled judgments»):", "", t]
    t = cross_language(suite, results)
    if t:
        parts += ["", "Across languages: share of judged documents (grade ≥ 1) in the top 10:", "", t]
    return "\n".join(parts)


LEGAL_TARGET = 0.90


def top3_report(suite: Suite, results: list[SystemResult]) -> str:
    """The legal suite's target: a grade-2 section in the top 3 (hit_rate@3-l2), with the questions missed."""
    lines = [f"Right section in the top 3 (target ≥ {LEGAL_TARGET:.0%}):", "",
             "| system | questions | right section in top 3 | share |", "|---|---:|---:|---:|"]
    for r in results:
        hits = _top3_hits(r, suite.qrels)
        lines.append(f"| {r.name} | {len(suite.qrels)} | {hits} | {hits / max(len(suite.qrels), 1):.1%} |")
    kinds: dict[str, list[str]] = {}
    for q in suite.qrels:  # the law questions written for training say what each asks: a §, a duty, a situation
        if (kind := (suite.query_meta.get(q) or {}).get("kind")):
            kinds.setdefault(kind, []).append(q)
    if kinds:
        lines += ["", "By kind of question: " + "; ".join(
            f"{r.name} " + ", ".join(f"{k} {_top3_hits(r, qs) / len(qs):.1%}" for k, qs in sorted(kinds.items()))
            for r in results)]
    hybrid = next((r for r in results if r.name == "hybrid"), None)
    if hybrid:
        missed = [q for q in suite.qrels if hybrid.per_query.get("hit_rate@3-l2", {}).get(q, 0) == 0]
        if missed:
            lines += ["", "Missed by hybrid (question → wanted; top 3 returned):"]
            for q in missed:
                wanted = ", ".join(d for d, g in suite.qrels[q].items() if g >= 2)
                top = sorted(hybrid.run.get(q, {}), key=lambda d: -hybrid.run[q][d])[:3]
                lines.append(f"- `{q}` {suite.queries[q]} → {wanted}; got {', '.join(top)}")
    return "\n".join(lines)


def _top3_hits(r: SystemResult, qids) -> int:
    """How many of these questions have a grade-2 result in the top 3."""
    scores = r.per_query.get("hit_rate@3-l2", {})
    return sum(1 for q in qids if scores.get(q, 0) > 0)


def compare(suite: Suite, a: SystemResult, b: SystemResult, metric: str = "ndcg@10", threshold: float = 0.05) -> str:
    wins, losses = [], []
    for qid in suite.qrels:
        da, db = a.per_query[metric].get(qid, 0.0), b.per_query[metric].get(qid, 0.0)
        if db - da > threshold:
            wins.append((db - da, qid))
        elif da - db > threshold:
            losses.append((da - db, qid))
    lines = [f"### {b.name} vs {a.name} on {suite.name} ({metric}): {len(wins)} better, {len(losses)} worse, "
             f"{len(suite.qrels) - len(wins) - len(losses)} about the same (|Δ| ≤ {threshold})"]
    for title, items, sign in (("better", wins, "+"), ("worse", losses, "−")):
        for delta, qid in sorted(items, reverse=True)[:25]:
            lines.append(f"- {title}: {sign}{delta:.3f} `{qid}` {suite.queries[qid][:90]}")
    return "\n".join(lines)


def write_files(out: Path, stamp: str, suite: Suite, results: list[SystemResult], text: str) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    base = out / f"{suite.name}-{stamp}"
    data = {"suite": suite.name, "queries": len(suite.qrels), "documents": len(suite.documents),
            "systems": {r.name: {"means": r.means, "per_query": r.per_query} for r in results}}
    base.with_suffix(".json").write_text(json.dumps(data, indent=1), encoding="utf-8")
    base.with_suffix(".md").write_text(text + "\n", encoding="utf-8")
    files = [base.with_suffix(".json"), base.with_suffix(".md")]
    files += charts(base, suite, results)
    return files


def _bar_chart(path: Path, labels: list[str], series: dict[str, list[float]], title: str, wide: bool) -> Path:
    """Grouped bars: one group per label, one bar per system."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(10, 4.5) if wide else (8, 4))
    width = 0.8 / max(1, len(series))
    x = np.arange(len(labels))
    for i, (name, values) in enumerate(series.items()):
        ax.bar(x + i * width, values, width, label=name)
    ax.set_xticks(x + width * (len(series) - 1) / 2, labels, rotation=35 if wide else 0,
                  ha="right" if wide else "center", fontsize=8 if wide else 10)
    ax.set_ylim(0, 1)
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def charts(base: Path, suite: Suite, results: list[SystemResult]) -> list[Path]:
    paths = [_bar_chart(base.with_name(base.name + ".png"), METRICS,
                        {r.name: [r.means[m] for m in METRICS] for r in results},
                        f"{suite.name}: systems × metrics", wide=False)]
    themes = suite.groups("theme")
    if themes:
        paths.append(_bar_chart(base.with_name(base.name + "-themes.png"), list(themes),
                                {r.name: [group_means(r, q, "ndcg@10") for q in themes.values()] for r in results},
                                f"{suite.name}: nDCG@10 per theme", wide=True))
    return paths
