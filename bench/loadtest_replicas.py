"""`make loadtest-replicas`: clients through nginx to N replicas, with a re-index and a replica killed midway.

First the same clients search one service process directly for --baseline seconds: the single-process p99
of this run. Then `python -m search_api.replicas` starts N replicas behind nginx on the same index, and the
clients search through nginx: after a quarter of --seconds an editor's change is re-indexed; once the new
generation has answered, one replica gets SIGKILL; the load goes on until the supervisor has started it
again and it answers with the new generation, then 3 s more, and --seconds in all at least. Every wait is
for an event, bounded by --wait, so a busy machine makes the run longer, not red.
Prints the summary of `make loadtest`, the kill and restart, and p99 against the single process.
Exits 1 on any failed request, when the new generation never answered, when the killed replica did not
come back, or when p99 through nginx is above --max-p99-ratio times the single process's.
  python -m bench.loadtest_replicas --clients 4 --seconds 20 --replicas 2
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
import urllib.request
from dataclasses import dataclass

from search_api.replicas import cores, read_state

from .load import Running, hammer, hammer_while, swapped_in
from .loadtest import QUERIES, failed, scratch_index, summary
from .server import running_replicas, running_server

AFTER_S = 3.0


@dataclass
class Kill:
    replica: str
    pid: int
    back_after: float | None
    """Seconds from SIGKILL until the supervisor's new process answered /healthz; None: not within the bound."""
    new_pid: int | None = None
    generation: str | None = None
    """The generation the restarted replica answered with."""


def kill_and_wait(run_dir, bound_s: float) -> Kill:
    """SIGKILL the first replica of state.json; wait until the supervisor reports a new process for it ready."""
    victim = read_state(run_dir)["replicas"][0]
    os.kill(victim["pid"], signal.SIGKILL)

    def back() -> bool:
        now = (read_state(run_dir) or {}).get("replicas", [{}])[0]
        return now.get("ready") and now.get("pid") not in (None, victim["pid"])

    after = Running.wait_for(back, bound_s)
    kill = Kill(victim["name"], victim["pid"], after)
    if after is not None:
        kill.new_pid = read_state(run_dir)["replicas"][0]["pid"]
        with urllib.request.urlopen(victim["probe"], timeout=30) as r:
            kill.generation = json.loads(r.read())["generation"]
    return kill


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=20, help="load through nginx at least this long")
    ap.add_argument("--baseline", type=float, default=10, help="seconds of the same load on one process first")
    ap.add_argument("--replicas", type=int, default=0,
                    help="service processes behind nginx, at least 2: one is killed (0: one per core, at least 2)")
    ap.add_argument("--wait", type=float, default=120, help="at most this long for each event (an answer, a restart)")
    ap.add_argument("--max-p99-ratio", type=float, default=3.0,
                    help="fail when p99 through nginx is above this many times the single process's")
    args = ap.parse_args(argv)
    if args.replicas == 1:
        ap.error("--replicas 1: one replica is killed midway, so at least 2 are needed")
    replicas = args.replicas or max(2, cores())

    with scratch_index() as (settings, tmp, reindex):
        corpus_dirs = ":".join(map(str, settings.corpus_dirs))
        with running_server(settings.index_dir, corpus_dirs, tmp / "single.log") as base:
            hammer(base, QUERIES, 1, 1)  # warm-up
            single = hammer(base, QUERIES, args.clients, args.baseline)
        # the load test's clients share one address: the proxy's per-address rate limit would answer them 429
        with running_replicas(settings.index_dir, corpus_dirs, tmp / "run", replicas,
                              {"SOVEI_PROXY_RATE_LIMIT": "0"}) as (base, run_dir):
            def scenario(run: Running):
                time.sleep(args.seconds / 4)
                swap = swapped_in(run, reindex, args.wait)
                kill = kill_and_wait(run_dir, args.wait) if swap.answered_after is not None else None
                time.sleep(AFTER_S)
                return swap, kill

            load, (swap, kill) = hammer_while(base, QUERIES, args.clients, args.seconds, scenario)
    ratio = load.p99() / single.p99()
    print(summary(args.clients, load, swap, args.wait))
    if kill is None:
        print("no replica was killed: the new generation never answered")
    elif kill.back_after is None:
        print(f"{kill.replica} (pid {kill.pid}) killed with SIGKILL; not answering again within {args.wait:g} s")
    else:
        print(f"{kill.replica} (pid {kill.pid}) killed with SIGKILL after that; the supervisor started it again "
              f"(pid {kill.new_pid}), answering {kill.back_after:.1f} s after the kill, generation "
              f"{'new' if kill.generation == swap.result.generation.name else kill.generation}")
    print(f"{replicas} replicas through nginx against one process directly ({args.clients} clients, "
          f"{args.baseline:g} s before, {len(single.records)} requests, {single.failed} failed): "
          f"p50 {load.p50():.1f} vs {single.p50():.1f} ms, p99 {load.p99():.1f} vs {single.p99():.1f} ms "
          f"= {ratio:.2f}× (at most {args.max_p99_ratio:g}×), {load.rps:.1f} vs {single.rps:.1f} req/s")
    bad = (failed(load, swap) or single.failed or kill is None or kill.back_after is None
           or kill.generation != swap.result.generation.name or ratio > args.max_p99_ratio)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
