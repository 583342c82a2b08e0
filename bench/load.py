"""Concurrent keep-alive clients against /api/search: the one load generator for bench and loadtest."""

from __future__ import annotations

import http.client
import json
import statistics
import threading
import time
import urllib.parse
from dataclasses import dataclass


def pct(values: list[float], q: float) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))]


@dataclass
class Load:
    records: list[tuple[float, bool, str | None]]
    """(latency ms, answered 200, index generation that answered) per request."""
    seconds: float

    @property
    def latencies(self) -> list[float]:
        return [r[0] for r in self.records]

    @property
    def failed(self) -> int:
        return sum(not r[1] for r in self.records)

    @property
    def generations(self) -> set[str]:
        return {r[2] for r in self.records if r[2]}

    @property
    def rps(self) -> float:
        return len(self.records) / self.seconds

    def p50(self) -> float:
        return statistics.median(self.latencies)

    def p99(self) -> float:
        return pct(self.latencies, 0.99)


def _client(base: str, queries: list[str], stop: float, out: list, lock: threading.Lock, seed: int) -> None:
    u = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    i = seed
    while time.perf_counter() < stop:
        q = queries[i % len(queries)]
        i += 7
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
            conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        with lock:
            out.append(((time.perf_counter() - t0) * 1000, ok, gen))


def hammer(base: str, queries: list[str], clients: int, seconds: float, midway=None):
    """Run `clients` clients for `seconds`; call `midway()` halfway through. Returns (Load, midway's result)."""
    records: list = []
    lock = threading.Lock()
    started = time.perf_counter()
    stop = started + seconds
    threads = [threading.Thread(target=_client, args=(base, queries, stop, records, lock, s)) for s in range(clients)]
    for t in threads:
        t.start()
    result = None
    if midway is not None:
        time.sleep(seconds / 2)
        result = midway()
    for t in threads:
        t.join()
    return Load(records, time.perf_counter() - started), result
