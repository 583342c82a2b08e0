"""Real server processes on free loopback ports, for load tests, HTTP benchmarks and tests: one process, or
replicas behind nginx (`python -m search_api.replicas`)."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from indexer.settings import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_ports(n: int) -> int:
    """The first of n consecutive free loopback ports (nginx on the first, the replicas on the ones after).

    Below the kernel's ephemeral range: a port from it can be taken by any outgoing connection on the machine
    between this check and the replicas' bind."""
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    rng = random.Random()
    for _ in range(200):
        first = rng.randrange(10_000, low - n)
        try:
            for port in range(first, first + n):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
    raise RuntimeError(f"no {n} consecutive free ports on 127.0.0.1")


@contextmanager
def running_server(index_dir: Path, corpus_dirs: str, log: Path, extra_env: dict | None = None):
    port = free_port()
    env = {**os.environ, "SOVEI_INDEX_DIR": str(index_dir), "SOVEI_PORT": str(port),
           "SOVEI_CORPUS_DIRS": corpus_dirs, **(extra_env or {})}
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "search_api"], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError("server exited: " + log.read_text())
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(10)


@contextmanager
def running_replicas(index_dir: Path, corpus_dirs: str, run_dir: Path, replicas: int = 2,
                     extra_env: dict | None = None):
    """`python -m search_api.replicas` (the supervisor, nginx, the replicas) on free ports: yields (nginx's URL,
    run_dir); its output goes to run_dir/supervisor.log. Stopped by SIGTERM to the supervisor, which stops the rest."""
    port = free_ports(replicas + 1)
    run_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "SOVEI_INDEX_DIR": str(index_dir), "SOVEI_PORT": str(port), "SOVEI_REPLICAS": str(replicas),
           "SOVEI_CORPUS_DIRS": corpus_dirs, **(extra_env or {})}
    log = run_dir / "supervisor.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "search_api.replicas", "--run-dir", str(run_dir)], cwd=ROOT,
                                env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        # ready when the supervisor has written its state (after nginx answered), however long the model loads take
        while not (run_dir / "state.json").exists():
            if proc.poll() is not None:
                raise RuntimeError("the replicas did not start: " + log.read_text())
            time.sleep(0.2)
        yield json.loads((run_dir / "state.json").read_text())["url"], run_dir
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(120)
