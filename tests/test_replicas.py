"""Replicas behind nginx (`make serve-replicas`): one index for all, generations and rollback reach every replica,
nginx's headers, gzip and limits, no query in either nginx log, a killed replica started again, stop by PID."""

from __future__ import annotations

import gzip
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import urllib.parse
from pathlib import Path

import pytest

from bench.load import Running
from bench.server import free_ports, running_replicas
from indexer.build import build_index
from indexer.cli import main as index_cli
from indexer.settings import ROOT
from search_api.headers import SECURITY_HEADERS
from search_api.nginx import redact
from search_api.replicas import read_state, stop_running

from .conftest import MINI, _settings

SECRET = "Kari Nordmann sju år blir slått hjemme"
SECRET_WORDS = ("Kari", "Nordmann", "sl%C3%A5tt", "slått", "Kari+Nordmann", "hjemme")


def _nginx_or_skip():
    if not (shutil.which("nginx") or os.access("/usr/sbin/nginx", os.X_OK)):
        pytest.skip("nginx is not installed: `make nginx-deps` (make test runs it)")


def _get(base: str, path: str, headers: dict | None = None, source: str = "127.0.0.1"):
    """(status, headers as a list of pairs, body bytes) over a fresh connection from the source address."""
    u = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60, source_address=(source, 0))
    try:
        conn.request("GET", path, headers=headers or {})
        r = conn.getresponse()
        return r.status, r.getheaders(), r.read()
    finally:
        conn.close()


def _generation(url: str) -> str:
    u = urllib.parse.urlsplit(url)
    status, _, body = _get(f"{u.scheme}://{u.netloc}", u.path)
    assert status == 200, body
    return json.loads(body)["generation"]


@pytest.fixture(scope="module")
def replicas(tmp_path_factory):
    """Two replicas behind nginx on a writable copy of the toy corpus's index: (nginx URL, run folder, settings)."""
    _nginx_or_skip()
    tmp = tmp_path_factory.mktemp("replicas")
    shutil.copytree(MINI, tmp / "corpus")
    settings = _settings(tmp, tmp / "corpus")
    build_index(settings)
    env = {"SOVEI_PROXY_RATE_LIMIT": "600", "SOVEI_PROXY_BURST": "10"}
    with running_replicas(settings.index_dir, str(tmp / "corpus"), tmp / "run", 2, env) as (base, run_dir):
        yield base, run_dir, settings


def test_every_replica_serves_the_one_index_behind_nginx(replicas):
    base, run_dir, settings = replicas
    state = read_state(run_dir)
    current = os.readlink(settings.current_index)
    assert [_generation(r["probe"]) for r in state["replicas"]] == [current, current]
    conf = (run_dir / "nginx" / "nginx.conf").read_text()
    for r in state["replicas"]:
        port = r["probe"].split(":")[2].split("/")[0]
        assert f"server 127.0.0.1:{port} max_fails=1 fail_timeout=2s;" in conf
    assert "proxy_next_upstream error timeout http_503;" in conf and "keepalive 16;" in conf
    status, _, body = _get(base, "/api/search?" + urllib.parse.urlencode({"q": "mobbing i friminuttet"}))
    assert status == 200 and json.loads(body)["index_generation"] == current


def test_security_headers_once_and_gzip_on_pages_and_json(replicas):
    base, _, _ = replicas
    for path, media in (("/api/search?q=mobbing", "application/json"), ("/?q=mobbing", "text/html")):
        status, headers, body = _get(base, path, {"Accept-Encoding": "gzip"})
        names = [k.lower() for k, _ in headers]
        assert status == 200 and dict(headers)["Content-Type"].startswith(media)
        assert dict(headers)["Content-Encoding"] == "gzip" and gzip.decompress(body)
        for k, v in SECURITY_HEADERS.items():
            assert names.count(k) == 1 and dict((a.lower(), b) for a, b in headers)[k] == v, k


def test_request_size_limits_answer_at_the_proxy_with_the_headers(replicas):
    base, _, _ = replicas
    def question(chars: int) -> str:
        return "/api/search?" + urllib.parse.urlencode({"q": "å" * chars})

    # the longest question the service takes (SOVEI_MAX_QUERY_CHARS), percent-encoded, passes the proxy …
    assert _get(base, question(1000))[0] == 200
    assert _get(base, question(1001))[0] == 400  # … and the service says what is wrong with a longer one
    status, headers, _ = _get(base, question(10_000))  # 60 KiB of request line: the proxy refuses it
    assert status == 414 and {k.lower() for k, _ in headers} >= set(SECURITY_HEADERS)
    u = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    conn.request("GET", "/api/search?q=mobbing", body=b"x" * 4096)
    assert conn.getresponse().status == 413
    conn.close()


def test_the_rate_limit_is_per_client_address_with_a_message(replicas):
    base, _, _ = replicas
    # 600 a minute with a burst of 10: 30 requests in a row from one address run into it …
    answers = [_get(base, "/api/themes", source="127.0.0.3") for _ in range(30)]
    limited = [a for a in answers if a[0] == 429]
    assert limited and all(a[0] in (200, 429) for a in answers)
    status, headers, body = limited[0]
    assert json.loads(body) == {"error": "Too many requests from this address; wait a minute and try again.",
                                "status": 429}
    assert dict(headers)["Retry-After"] == "60" and {k.lower() for k, _ in headers} >= set(SECURITY_HEADERS)
    status, headers, body = _get(base, "/?q=mobbing", source="127.0.0.3")
    assert status == 429 and "For mange søk på kort tid" in body.decode() and "116 111" in body.decode()
    # … while another address is served as before
    assert _get(base, "/api/themes", source="127.0.0.4")[0] == 200


def test_a_reindex_reaches_every_replica_and_a_rollback_takes_all_back(replicas):
    base, run_dir, settings = replicas
    probes = [r["probe"] for r in read_state(run_dir)["replicas"]]
    first = os.readlink(settings.current_index)
    seen, done = set(), threading.Event()

    def watch():  # every replica, all through the build: only complete generations answer
        while not done.is_set():
            seen.update(_generation(p) for p in probes)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        doc = Path(settings.corpus_dirs[0]) / "docs" / "mobbing-i-friminuttet.md"
        doc.write_text(doc.read_text(encoding="utf-8") + "\nNy setning fra redaksjonen.\n", encoding="utf-8")
        second = build_index(settings).generation.name
    finally:
        done.set()
        watcher.join()
    assert seen <= {first, second} and first in seen
    assert [_generation(p) for p in probes] == [second, second]  # each on its next request
    assert index_cli(["--index-dir", str(settings.index_dir), "--rollback"]) == 0
    assert [_generation(p) for p in probes] == [first, first]
    status, _, body = _get(base, "/api/search?q=mobbing")
    assert json.loads(body)["index_generation"] == first


def test_a_killed_replica_is_started_again_and_no_log_holds_the_question(replicas):
    base, run_dir, _ = replicas
    victim = read_state(run_dir)["replicas"][0]
    os.kill(victim["pid"], signal.SIGKILL)
    path = "/api/search?" + urllib.parse.urlencode({"q": SECRET})
    # while it is down, nginx sends its share to the other replica: no request fails
    assert [_get(base, path)[0] for _ in range(6)] == [200] * 6
    assert _get(base, "/?" + urllib.parse.urlencode({"q": SECRET}))[0] == 200

    def back():
        now = read_state(run_dir)["replicas"][0]
        return now["ready"] and now["pid"] != victim["pid"]

    assert Running.wait_for(back, 300) is not None
    assert read_state(run_dir)["replicas"][0]["restarts"] == 1
    supervisor_log = (run_dir / "supervisor.log").read_text()
    assert f"{victim['name']} (pid {victim['pid']}) ended by signal SIGKILL; starting it again" in supervisor_log

    access = (run_dir / "nginx" / "access.log").read_text()
    errors = (run_dir / "nginx" / "error.log").read_text()
    assert '"GET /api/search" 200' in access and '"GET /" 200' in access
    # nginx logged the dead replica (a refused connect, or a connection closed under a request) …
    assert re.search(r'\[error\] .*upstream.*, request: "GET /api/search", upstream: 127\.0\.0\.1:\d+$', errors, re.M)
    assert "?" not in access + errors  # … with the path, never a query string
    for text in (access, errors, *(p.read_text() for p in run_dir.glob("replica-*.log"))):
        for word in SECRET_WORDS:
            assert word not in text


def test_a_killed_nginx_is_started_again_after_its_orphaned_worker_is_stopped(replicas):
    """nginx's worker outlives a master killed with SIGKILL and keeps the port: the supervisor stops it first."""
    base, run_dir, _ = replicas
    master = read_state(run_dir)["nginx"]["pid"]
    workers = [int(p.parent.name) for p in Path("/proc").glob("[0-9]*/stat")
               if _ppid(p) == master]
    assert workers
    os.kill(master, signal.SIGKILL)

    def back():
        now = read_state(run_dir)["nginx"]
        return now["ready"] and now["pid"] != master

    assert Running.wait_for(back, 300) is not None
    assert all(not Path(f"/proc/{w}").exists() or _zombie(w) for w in workers)
    assert _get(base, "/api/search?q=mobbing")[0] == 200
    assert read_state(run_dir)["nginx"]["restarts"] == 1


def _ppid(stat: Path) -> int | None:
    try:
        return int(stat.read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError):
        return None


def test_stop_ends_every_process_it_started_by_pid(replicas):
    _, run_dir, _ = replicas
    state = read_state(run_dir)
    pids = [state["supervisor"], state["nginx"]["pid"], *(r["pid"] for r in state["replicas"])]
    message = stop_running(run_dir)
    assert message.startswith(f"Stopped the supervisor (pid {state['supervisor']}) and with it nginx (pid ")
    assert all(not Path(f"/proc/{pid}").exists() or _zombie(pid) for pid in pids)
    assert read_state(run_dir) is None


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z")
    except OSError:
        return True


def test_a_killed_supervisor_leaves_no_process_behind(mini_index, tmp_path):
    """The kernel ends the children when the supervisor dies (PR_SET_PDEATHSIG), even by SIGKILL."""
    _nginx_or_skip()
    with running_replicas(mini_index.index_dir, ":".join(map(str, mini_index.corpus_dirs)), tmp_path / "run",
                          1) as (_, run_dir):
        state = read_state(run_dir)
        os.kill(state["supervisor"], signal.SIGKILL)
        children = [state["nginx"]["pid"], state["replicas"][0]["pid"]]
        assert Running.wait_for(lambda: all(not Path(f"/proc/{p}").exists() or _zombie(p) for p in children),
                                120) is not None
        assert stop_running(run_dir) == "Nothing was running; removed the stale state.json."


def test_it_will_not_start_on_a_taken_port_or_without_an_index(mini_index, tmp_path):
    _nginx_or_skip()
    port = free_ports(3)
    env = {**os.environ, "SOVEI_INDEX_DIR": str(mini_index.index_dir), "SOVEI_PORT": str(port), "SOVEI_REPLICAS": "2"}
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port + 2))
        taken.listen()
        r = subprocess.run([sys.executable, "-m", "search_api.replicas", "--run-dir", str(tmp_path / "run")],
                           cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert (f"Kan ikke starte: 127.0.0.1:{port + 2} is taken (Address already in use): with SOVEI_PORT={port} "
            f"nginx listens on {port} and the replicas on {port + 1}–{port + 2}; stop what uses it or set "
            "SOVEI_PORT") in r.stderr
    env["SOVEI_INDEX_DIR"] = str(tmp_path / "none")
    r = subprocess.run([sys.executable, "-m", "search_api.replicas", "--run-dir", str(tmp_path / "run")],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and (f"Kan ikke starte: No index at {tmp_path / 'none' / 'current'} (no manifest.json). "
                                  "Build it with `make index`.") in r.stderr
    assert not (tmp_path / "run" / "state.json").exists()


def test_the_error_log_keeps_method_path_and_replica_but_no_query():
    line = ('2026/12/06 07:53:08 [error] 3967#3967: *10 connect() failed (111: Connection refused) while connecting '
            'to upstream, client: 127.0.0.1, server: _, request: "GET /api/search?q=Kari+sl%C3%A5tt HTTP/1.1", '
            'upstream: "http://127.0.0.1:8002/api/search?q=Kari+sl%C3%A5tt", host: "127.0.0.1:8000", '
            'referrer: "http://127.0.0.1:8000/?q=Kari"\n')
    assert redact(line) == ('2026/12/06 07:53:08 [error] 3967#3967: *10 connect() failed (111: Connection refused) '
                            'while connecting to upstream, client: 127.0.0.1, server: _, request: "GET /api/search", '
                            'upstream: 127.0.0.1:8002\n')
    # a question that imitates the fields cannot bring text along: only an address is taken from it
    sly = line.replace("Kari+sl%C3%A5tt HTTP", 'Kari", upstream: "http://Kari:1/ HTTP')
    assert "Kari" not in redact(sly)
    assert redact("2026/12/06 [notice] 1#1: signal process started\n") == "2026/12/06 [notice] 1#1: signal process started\n"
