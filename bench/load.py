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


def _client(base: str, queries: list[str], running, out: list, lock: threading.Lock, seed: int) -> None:
    u = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    i = seed
    while running():
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


def _start(base: str, queries: list[str], clients: int, running, records: list, lock: threading.Lock):
    threads = [threading.Thread(target=_client, args=(base, queries, running, records, lock, s)) for s in range(clients)]
    for t in threads:
        t.start()
    return threads


def hammer(base: str, queries: list[str], clients: int, seconds: float) -> Load:
    """Run `clients` clients for `seconds`."""
    records: list = []
    started = time.perf_counter()
    stop = started + seconds
    for t in _start(base, queries, clients, lambda: time.perf_counter() < stop, records, threading.Lock()):
        t.join()
    return Load(records, time.perf_counter() - started)


@dataclass
class Swap:
    """What happened to the re-index run under load."""

    result: object
    """What `reindex()` returned."""
    seconds: float
    """How long the re-index took."""
    answered_after: float | None
    """Seconds from the end of the re-index to the first response from the new generation; None: none came
    within the bound."""


class Running:
    """The load while it runs, for a scenario to wait on."""

    def __init__(self, records: list, lock: threading.Lock):
        self._records, self._lock = records, lock

    def answered_by(self, generation: str) -> bool:
        with self._lock:
            return any(r[2] == generation for r in self._records)

    @staticmethod
    def wait_for(event, bound_s: float) -> float | None:
        """Seconds until event() was true, checked every 50 ms; None when it was not within bound_s."""
        t0 = time.perf_counter()
        while not event():
            if time.perf_counter() - t0 > bound_s:
                return None
            time.sleep(0.05)
        return time.perf_counter() - t0


def hammer_while(base: str, queries: list[str], clients: int, seconds: float, scenario):
    """Clients search while scenario(Running) runs, and for `seconds` in all at least: (Load, what it returned)."""
    records: list = []
    lock = threading.Lock()
    stop = threading.Event()
    started = time.perf_counter()
    threads = _start(base, queries, clients, lambda: not stop.is_set(), records, lock)
    try:
        result = scenario(Running(records, lock))
        time.sleep(max(0.0, started + seconds - time.perf_counter()))
    finally:
        stop.set()
        for t in threads:
            t.join()
    return Load(records, time.perf_counter() - started), result


def hammer_across_reindex(base: str, queries: list[str], clients: int, seconds: float, reindex,
                          bound_s: float = 120.0, after_s: float = 3.0) -> tuple[Load, Swap]:
    """Clients search while a re-index is swapped in, and until the new generation has answered.

    `reindex()` runs after `seconds / 2` of load and returns (new generation's name, anything). The load goes on
    until a response from that generation has come back (waiting at most `bound_s` after the re-index ends),
    then `after_s` more, and `seconds` in all at least: a slow machine makes the test longer, not wrong."""
    def scenario(run: Running) -> Swap:
        time.sleep(seconds / 2)
        swap = swapped_in(run, reindex, bound_s)
        if swap.answered_after is not None:
            time.sleep(after_s)
        return swap

    return hammer_while(base, queries, clients, seconds, scenario)


def swapped_in(run: Running, reindex, bound_s: float) -> Swap:
    """Run the re-index, then wait (at most bound_s) until its generation has answered a client."""
    t0 = time.perf_counter()
    generation, result = reindex()
    done = time.perf_counter()
    return Swap(result, done - t0, run.wait_for(lambda: run.answered_by(generation), bound_s))
