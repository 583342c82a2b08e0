"""Run systems on suites: index (reused when unchanged) → rank every query → ranx metrics."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from ranx import Qrels, Run, evaluate

from indexer.build import kept_index
from indexer.embed import load_embedder
from indexer.settings import ROOT, Settings
from search_api.index_store import Snapshot, open_snapshot
from search_api.params import SearchRequest
from search_api.hits import best_per_result
from search_api.search import question_vector, rank

from .suites import Suite
from .systems import settings_for

METRICS = ["ndcg@10", "mrr@10", "recall@10", "recall@50"]
GRADED_METRICS = ["precision@1-l2", "hit_rate@3-l2"]
"""For suites with graded judgments: only grade 2 («answers the question») counts. Is the top hit an
answer, is one in the top 3: they bound what an extractive answer box over the top passages could cite."""
DEPTH = 100
BANK_SUITES = ("practitioner", "legal")
"""Suites over the bank as served: they share one index and the committed embedding cache."""
EVAL_DIR = ROOT / "var" / "eval"


@dataclass
class SystemResult:
    name: str
    means: dict[str, float]
    per_query: dict[str, dict[str, float]]
    """metric → query id → score"""
    run: dict[str, dict[str, float]] = field(repr=False, default_factory=dict)


def suite_index_path(suite: Suite, settings: Settings, progress=None) -> Path:
    """The suite indexed with these settings' model and chunking (`indexer.build.kept_index`: built once, reused while
    nothing changed); the path of its current generation."""
    # the practitioner and legal suites search the bank as served (corpus/ and the law texts): one folder, built
    # from the served embedding cache; other suites have their own
    served = suite.name in BANK_SUITES
    cache_dir = settings.cache_dir / suite.cache_subdir if suite.cache_subdir else settings.cache_dir
    return kept_index(replace(settings, cache_dir=cache_dir), EVAL_DIR / ("bank" if served else suite.name),
                      suite.documents, suite.themes, progress)


def suite_index(suite: Suite, settings: Settings, progress=None) -> Snapshot:
    return open_snapshot(suite_index_path(suite, settings, progress))


def query_vectors(suite: Suite, settings: Settings) -> dict[str, np.ndarray]:
    emb = load_embedder(settings.model, settings.threads)
    return {qid: question_vector(emb, suite.queries[qid]) for qid in suite.qrels}


def doc_run(doc_ids) -> dict[str, float]:
    """One ranx run row from passages' document ids, best first: a document counts at its first passage.
    Scores are rank-derived because ranx sorts by score and fused scores can tie."""
    row: dict[str, float] = {}
    for d in doc_ids:
        if d not in row:
            if len(row) == DEPTH:
                break
            row[d] = 1.0 / (len(row) + 1)
    return row or {"__none__": 0.0}


def result_ids(fused, unit: str):
    """What each result counts as: its document, or for a `section` suite a law hit's section (the page shows
    one passage per section of the law, `Hit.unit`)."""
    if unit == "section":
        return (h.unit for h in best_per_result(fused))
    return (h.doc_id for h in fused)


def run_system(name: str, suite: Suite, snap: Snapshot, settings: Settings, qvecs: dict[str, np.ndarray],
               progress=None) -> SystemResult:
    emb = load_embedder(settings.model, settings.threads)
    run: dict[str, dict[str, float]] = {}
    qids = list(suite.qrels)
    for qid in (progress(qids, desc=f"{suite.name}/{name}", unit="q") if progress else qids):
        fused, *_ = rank(snap, emb, settings, SearchRequest(q=suite.queries[qid], k=DEPTH), qvecs[qid])
        run[qid] = doc_run(result_ids(fused, suite.unit))
    qrels, ranx_run = Qrels(suite.qrels), Run(run)
    metrics = METRICS + (GRADED_METRICS if suite.graded else [])
    means = evaluate(qrels, ranx_run, metrics, make_comparable=True)
    per_query = {m: {q: float(v) for q, v in ranx_run.scores[m].items()} for m in metrics}
    return SystemResult(name, {m: float(v) for m, v in means.items()}, per_query, run)


def group_means(result: SystemResult, qids: list[str], metric: str) -> float:
    vals = [result.per_query[metric][q] for q in qids if q in result.per_query[metric]]
    return float(np.mean(vals)) if vals else float("nan")


def evaluate_suite(suite: Suite, systems: dict[str, dict], base: Settings, progress=None) -> list[SystemResult]:
    if suite.parts:
        return pool_results([evaluate_suite(p, systems, base, progress) for p in suite.parts], suite)
    results = []
    snaps: dict[Path, Snapshot] = {}
    vecs: dict[str, dict] = {}
    for name, overrides in systems.items():
        s = settings_for(base, overrides)
        path = suite_index_path(suite, s, progress)
        if path not in snaps:
            snaps[path] = open_snapshot(path)
        if s.model not in vecs:
            vecs[s.model] = query_vectors(suite, s)
        results.append(run_system(name, suite, snaps[path], s, vecs[s.model], progress))
    return results


def pool_results(per_part: list[list[SystemResult]], suite: Suite) -> list[SystemResult]:
    """One result per system over all parts: per-question scores keyed `<part>:<query id>`, averaged."""
    pooled = []
    for i_sys, first in enumerate(per_part[0]):
        per_query: dict[str, dict[str, float]] = {m: {} for m in first.per_query}
        run: dict[str, dict[str, float]] = {}
        for i, results in enumerate(per_part):
            r = results[i_sys]
            for m, scores in r.per_query.items():
                per_query[m].update({f"{i}:{q}": v for q, v in scores.items()})
            run.update({f"{i}:{q}": row for q, row in r.run.items()})
        means = {m: float(np.mean([per_query[m][q] for q in suite.qrels])) for m in first.means}
        pooled.append(SystemResult(first.name, means, per_query, run))
    return pooled
