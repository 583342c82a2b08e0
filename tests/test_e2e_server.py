"""The real server process (uvicorn), queried over HTTP on loopback."""

import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request

QUESTION = "hva gjør jeg når en elev forteller at hun blir mobbet?"


def _get(url: str):
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()


def test_search_over_http_with_theme_filter(live_server):
    base, _ = live_server
    status, headers, body = _get(base + "/api/search?" + urllib.parse.urlencode({"q": QUESTION,
                                                                                 "theme": "mobbeforebygging"}))
    assert status == 200 and headers["content-type"].startswith("application/json")
    hits = json.loads(body)["hits"]
    assert hits and all("mobbeforebygging" in h["themes"] for h in hits)
    # the bank's own page for what the bank wrote, a PDF's page in the file, the publisher's (or Lovdata's) page
    # otherwise
    def cites_a_page(h: dict) -> bool:
        url = h["citation"]["url"]
        return (url.startswith(("http", f"/dokument/{h['doc_id']}?avsnitt="))
                or (url.startswith("/filer/") and re.search(r"\.pdf#page=\d+$", url) is not None))

    assert all(cites_a_page(h) for h in hits), [h["citation"]["url"] for h in hits]


def test_page_and_bad_parameter_over_http(live_server):
    base, _ = live_server
    status, _, body = _get(base + "/?" + urllib.parse.urlencode({"q": QUESTION, "theme": "mobbeforebygging"}))
    assert status == 200 and "treff" in body and "Kilde:" in body
    status, _, body = _get(base + "/api/search?q=mobbing&k=999")
    assert status == 400 and "Parameter 'k'" in json.loads(body)["error"]


def test_server_log_never_contains_the_query(live_server):
    base, log = live_server
    secret = "Kari Nordmann sju år blir slått hjemme"
    status, _, _ = _get(base + "/api/search?" + urllib.parse.urlencode({"q": secret}))
    _get(base + "/?" + urllib.parse.urlencode({"q": secret}))
    assert status == 200
    time.sleep(0.3)
    text = log.read_text()
    assert "GET /api/search 200" in text  # requests are logged …
    for word in ("Kari", "Nordmann", "sl%C3%A5tt", "slått", "Kari+Nordmann"):
        assert word not in text  # … but never what was asked


def test_server_refuses_to_start_without_an_index_and_says_what_to_run(tmp_path):
    import os
    import subprocess
    import sys

    from indexer.settings import ROOT

    env = {**os.environ, "SOVEI_INDEX_DIR": str(tmp_path / "none")}
    r = subprocess.run([sys.executable, "-m", "search_api"], cwd=ROOT, env=env, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 2
    assert f"Kan ikke starte: No index at {tmp_path / 'none' / 'current'}" in r.stderr
    assert "Build it with `make index`" in r.stderr
