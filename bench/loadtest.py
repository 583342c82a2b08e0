"""`make loadtest`: N concurrent clients for T seconds on loopback, with a re-index swapped in midway.

Prints requests, failures, p50/p99 latency and requests/s, and which index generations answered.
Exits 1 on any failed request. Stops by itself.
  python -m bench.loadtest --clients 4 --seconds 20
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from indexer.build import build_index
from indexer.settings import ROOT, Settings

from .load import hammer
from .server import running_server

QUERIES = ["hva gjør jeg når en elev forteller at hun blir mobbet?", "elev kutter seg", "mamma er psykisk syk",
           "snus og veip på 7. trinn", "korleis snakke med foreldre som er bekymra", "meldeplikt barnevern",
           "gutt slår i friminuttet", "child tells me about abuse at home", "skolevegring", "mobing pa nett"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=20)
    args = ap.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="sovei-load-"))
    corpus = tmp / "corpus"
    shutil.copytree(ROOT / "corpus", corpus)
    base_settings = Settings.from_env()
    # a copy of the cache: the midway edit's new passage must not land in the committed cache
    shutil.copytree(base_settings.cache_dir, tmp / "cache")
    settings = Settings.from_env(corpus_dirs=str(corpus), index_dir=tmp / "index", cache_dir=tmp / "cache")
    build_index(settings)
    try:
        with running_server(settings.index_dir, str(corpus), tmp / "server.log") as base:
            def reindex():
                # an editor changes a document and re-indexes while the clients search
                doc = corpus / "mobbeforebygging" / "hva-er-mobbing-kjennetegn-og-tegn.md"
                doc.write_text(doc.read_text(encoding="utf-8") + "\nOppdatert under lasttesten.\n", encoding="utf-8")
                t0 = time.perf_counter()
                return build_index(settings), time.perf_counter() - t0

            load, (summary, reindex_s) = hammer(base, QUERIES, args.clients, args.seconds, midway=reindex)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"clients {args.clients}, {load.seconds:.1f} s: {len(load.records)} requests, {load.failed} failed, "
          f"{load.rps:.1f} req/s; latency p50 {load.p50():.1f} ms, p99 {load.p99():.1f} ms, "
          f"max {max(load.latencies):.1f} ms")
    print(f"re-index midway: {summary.line()} ({reindex_s:.1f} s); generations that answered: {len(load.generations)}")
    return 1 if load.failed or len(load.generations) < 2 else 0


if __name__ == "__main__":
    sys.exit(main())
