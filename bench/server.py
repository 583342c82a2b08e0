"""A real server process on a free loopback port, for load tests and HTTP benchmarks."""

from __future__ import annotations

import os
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
