"""The real server process (uvicorn), queried over HTTP on loopback."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from indexer.settings import ROOT

QUESTION = "hva gjør jeg når en elev forteller at hun blir mobbet?"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(corpus_index, tmp_path_factory):
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


def _get(url: str):
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()


def test_search_over_http_with_theme_filter(server):
    base, _ = server
    status, headers, body = _get(base + "/api/search?" + urllib.parse.urlencode({"q": QUESTION,
                                                                                 "theme": "mobbeforebygging"}))
    assert status == 200 and headers["content-type"].startswith("application/json")
    hits = json.loads(body)["hits"]
    assert hits and all("mobbeforebygging" in h["themes"] for h in hits)
    assert all(h["citation"]["url"].startswith("http") for h in hits)


def test_page_and_bad_parameter_over_http(server):
    base, _ = server
    status, _, body = _get(base + "/?" + urllib.parse.urlencode({"q": QUESTION, "theme": "mobbeforebygging"}))
    assert status == 200 and "treff" in body and "Kilde:" in body
    status, _, body = _get(base + "/api/search?q=mobbing&k=999")
    assert status == 400 and "Parameter 'k'" in json.loads(body)["error"]


def test_server_log_never_contains_the_query(server):
    base, log = server
    secret = "Kari Nordmann sju år blir slått hjemme"
    status, _, _ = _get(base + "/api/search?" + urllib.parse.urlencode({"q": secret}))
    _get(base + "/?" + urllib.parse.urlencode({"q": secret}))
    assert status == 200
    time.sleep(0.3)
    text = log.read_text()
    assert "GET /api/search 200" in text  # requests are logged …
    for word in ("Kari", "Nordmann", "sl%C3%A5tt", "slått", "Kari+Nordmann"):
        assert word not in text  # … but never what was asked
