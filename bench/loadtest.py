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
from contextlib import contextmanager
from pathlib import Path

from indexer.build import build_index
from indexer.settings import ROOT, Settings

from .load import Load, Swap, hammer_across_reindex
from .server import running_server

QUERIES = ["hva gjør jeg når en elev forteller at hun blir mobbet?", "elev kutter seg", "mamma er psykisk syk",
           "snus og veip på 7. trinn", "korleis snakke med foreldre som er bekymra", "meldeplikt barnevern",
           "gutt slår i friminuttet", "child tells me about abuse at home", "skolevegring", "mobing pa nett"]


@contextmanager
def scratch_index():
    """A copy of corpus/ and of the embedding cache in a temporary folder, indexed: (settings, folder, reindex).

    reindex() is an editor changing a document and running the index while the clients search: it returns
    (the new generation's name, the build summary)."""
    tmp = Path(tempfile.mkdtemp(prefix="sovei-load-"))
    try:
        corpus = tmp / "corpus"
        shutil.copytree(ROOT / "corpus", corpus)
        # a copy of the cache: the midway edit's new passage must not land in the committed cache
        shutil.copytree(Settings.from_env().cache_dir, tmp / "cache")
        settings = Settings.from_env(corpus_dirs=str(corpus), index_dir=tmp / "index", cache_dir=tmp / "cache")
        build_index(settings)

        def reindex():
            doc = corpus / "mobbeforebygging" / "hva-er-mobbing-kjennetegn-og-tegn.md"
            doc.write_text(doc.read_text(encoding="utf-8") + "\nOppdatert under lasttesten.\n", encoding="utf-8")
            summary = build_index(settings)
            return summary.generation.name, summary

        yield settings, tmp, reindex
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def summary(clients: int, load: Load, swap: Swap, wait: float) -> str:
    """The two lines both load tests print."""
    answered = (f"the new generation answered {swap.answered_after:.1f} s after it" if swap.answered_after is not None
                else f"the new generation did not answer within {wait:g} s")
    return (f"clients {clients}, {load.seconds:.1f} s: {len(load.records)} requests, {load.failed} failed, "
            f"{load.rps:.1f} req/s; latency p50 {load.p50():.1f} ms, p99 {load.p99():.1f} ms, "
            f"max {max(load.latencies):.1f} ms\n"
            f"re-index midway: {swap.result.line()} ({swap.seconds:.1f} s); {answered}; "
            f"generations that answered: {len(load.generations)}")


def failed(load: Load, swap: Swap) -> bool:
    return bool(load.failed or swap.answered_after is None or len(load.generations) < 2)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=20, help="load at least this long; the re-index starts halfway")
    ap.add_argument("--wait", type=float, default=120,
                    help="at most this long after the re-index for the new generation to answer")
    args = ap.parse_args(argv)

    with scratch_index() as (settings, tmp, reindex):
        with running_server(settings.index_dir, ":".join(map(str, settings.corpus_dirs)), tmp / "server.log") as base:
            load, swap = hammer_across_reindex(base, QUERIES, args.clients, args.seconds, reindex, bound_s=args.wait)
    print(summary(args.clients, load, swap, args.wait))
    return 1 if failed(load, swap) else 0


if __name__ == "__main__":
    sys.exit(main())
