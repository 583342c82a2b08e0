"""`make loadtest`: N concurrent clients on loopback, with a re-index swapped in midway.

The clients search for T seconds at least: the re-index starts after T/2, and the load goes on until the
new generation has answered (at most 120 s after the re-index ends) and a few seconds more, so a busy
machine makes the run longer instead of ending it before the swap shows.
Prints requests, failures, p50/p99 latency and requests/s, and which index generations answered.
Exits 1 on any failed request or when the new generation never answered. Stops by itself.
  python -m bench.loadtest --clients 4 --seconds 20
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from indexer.build import build_index
from indexer.settings import ROOT, Settings

from .load import hammer_across_reindex
from .server import running_server

QUERIES = ["hva gjør jeg når en elev forteller at hun blir mobbet?", "elev kutter seg", "mamma er psykisk syk",
           "snus og veip på 7. trinn", "korleis snakke med foreldre som er bekymra", "meldeplikt barnevern",
           "gutt slår i friminuttet", "child tells me about abuse at home", "skolevegring", "mobing pa nett"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=20, help="load at least this long; the re-index starts halfway")
    ap.add_argument("--wait", type=float, default=120,
                    help="at most this long after the re-index for the new generation to answer")
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
                summary = build_index(settings)
                return summary.generation.name, summary

            load, swap = hammer_across_reindex(base, QUERIES, args.clients, args.seconds, reindex,
                                               bound_s=args.wait)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"clients {args.clients}, {load.seconds:.1f} s: {len(load.records)} requests, {load.failed} failed, "
          f"{load.rps:.1f} req/s; latency p50 {load.p50():.1f} ms, p99 {load.p99():.1f} ms, "
          f"max {max(load.latencies):.1f} ms")
    answered = (f"the new generation answered {swap.answered_after:.1f} s after it" if swap.answered_after is not None
                else f"the new generation did not answer within {args.wait:g} s")
    print(f"re-index midway: {swap.result.line()} ({swap.seconds:.1f} s); {answered}; "
          f"generations that answered: {len(load.generations)}")
    return 1 if load.failed or swap.answered_after is None or len(load.generations) < 2 else 0


if __name__ == "__main__":
    sys.exit(main())
