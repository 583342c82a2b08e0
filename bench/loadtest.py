"""`make loadtest`: N concurrent clients for T seconds on loopback, with a re-index swapped in midway.

Prints requests, failures, p50/p99 latency and requests/s, and which index generations answered.
Exits 1 on any failed request. Stops by itself.
  python -m bench.loadtest --clients 4 --seconds 20
"""

from __future__ import annotations

import argparse
import http.client
import json
import shutil
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

from indexer.build import build_index
from indexer.settings import ROOT, Settings

from .server import running_server

QUERIES = ["hva gjør jeg når en elev forteller at hun blir mobbet?", "elev kutter seg", "mamma er psykisk syk",
           "snus og veip på 7. trinn", "korleis snakke med foreldre som er bekymra", "meldeplikt barnevern",
           "gutt slår i friminuttet", "child tells me about abuse at home", "skolevegring", "mobing pa nett"]


def client(base: str, stop: float, out: list, lock: threading.Lock, seed: int) -> None:
    host = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
    i = seed
    while time.perf_counter() < stop:
        q = QUERIES[i % len(QUERIES)]
        i += 1
        t0 = time.perf_counter()
        try:
            conn.request("GET", "/api/search?" + urllib.parse.urlencode({"q": q, "k": 10}))
            resp = conn.getresponse()
            body = resp.read()
            ok = resp.status == 200
            gen = json.loads(body).get("index_generation") if ok else None
        except (OSError, http.client.HTTPException, ValueError):
            ok, gen = False, None
            conn.close()
            conn = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
        with lock:
            out.append((time.perf_counter() - t0, ok, gen))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=20)
    args = ap.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="sovei-load-"))
    corpus = tmp / "corpus"
    shutil.copytree(ROOT / "corpus", corpus)
    settings = Settings.from_env(corpus_dirs=str(corpus), index_dir=tmp / "index")
    build_index(settings)
    results: list = []
    lock = threading.Lock()
    try:
        with running_server(settings.index_dir, str(corpus), tmp / "server.log") as base:
            start = time.perf_counter()
            stop = start + args.seconds
            threads = [threading.Thread(target=client, args=(base, stop, results, lock, i)) for i in range(args.clients)]
            for t in threads:
                t.start()
            time.sleep(args.seconds / 2)
            # an editor changes a document and re-indexes while the clients search
            doc = corpus / "mobbeforebygging" / "hva-er-mobbing-kjennetegn-og-tegn.md"
            doc.write_text(doc.read_text(encoding="utf-8") + "\nOppdatert under lasttesten.\n", encoding="utf-8")
            t0 = time.perf_counter()
            summary = build_index(settings)
            reindex_s = time.perf_counter() - t0
            for t in threads:
                t.join()
            elapsed = time.perf_counter() - start
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    lat = sorted(r[0] * 1000 for r in results)
    failed = sum(not r[1] for r in results)
    gens = sorted({r[2] for r in results if r[2]})
    p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]  # noqa: E731
    print(f"clients {args.clients}, {elapsed:.1f} s: {len(results)} requests, {failed} failed, "
          f"{len(results) / elapsed:.1f} req/s; latency p50 {statistics.median(lat):.1f} ms, p99 {p(0.99):.1f} ms, "
          f"max {lat[-1]:.1f} ms")
    print(f"re-index midway: {summary.line()} ({reindex_s:.1f} s); generations that answered: {len(gens)}")
    return 1 if failed or len(gens) < 2 else 0


if __name__ == "__main__":
    sys.exit(main())
