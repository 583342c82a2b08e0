"""Settings are checked when they are read: a bad value stops every command at start, naming the variable."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys

import pytest

from indexer.errors import ConfigError
from indexer.settings import FUSIONS, ROOT, Settings


@pytest.mark.parametrize("env, message", [
    ({"SOVEI_FUSION": "bogus"}, "SOVEI_FUSION='bogus' is not a valid value; valid values: learned, rrf, weighted, bm25, dense"),
    ({"SOVEI_CANDIDATES": "0"}, "SOVEI_CANDIDATES=0 is out of range; valid values: 1 to 10000"),
    ({"SOVEI_CANDIDATES": "many"}, "SOVEI_CANDIDATES='many' is not a whole number; valid values: 1 to 10000"),
    ({"SOVEI_BM25_WEIGHT": "-1"}, "SOVEI_BM25_WEIGHT=-1.0 is out of range; valid values: 0 to 100"),
    ({"SOVEI_THEME_BOOST": "0,3"}, "SOVEI_THEME_BOOST='0,3' is not a number; valid values: 0 to 10"),
    ({"SOVEI_EXPANSION": "2"}, "SOVEI_EXPANSION=2 is not a valid value; valid values: 0, 1"),
    ({"SOVEI_THREADS": "0"}, "SOVEI_THREADS=0 is out of range; valid values: 1 to 64"),
    ({"SOVEI_PORT": "70000"}, "SOVEI_PORT=70000 is out of range; valid values: 1 to 65535"),
    ({"SOVEI_PDF_TIMEOUT_S": "0"}, "SOVEI_PDF_TIMEOUT_S=0.0 is out of range; valid values: 0.1 to 3600"),
    ({"SOVEI_CHUNK_MAX_WORDS": "100"}, "SOVEI_CHUNK_MAX_WORDS=100 is below SOVEI_CHUNK_WORDS=160; valid values: 160 to 2000"),
    ({"SOVEI_LAW_DIRS": "/nonexistent/laws"}, "SOVEI_LAW_DIRS: '/nonexistent/laws' is not a folder; valid values: "
     "colon-separated folders of law texts in the norwegian-laws format, or empty for none"),
    ({"SOVEI_CHUNK_OVERLAP": "160"}, "SOVEI_CHUNK_OVERLAP=160 is not below SOVEI_CHUNK_WORDS=160; valid values: 0 to 159"),
])
def test_an_invalid_setting_names_the_variable_and_the_valid_values(env, message):
    with pytest.raises(ConfigError) as exc:
        Settings.from_env(env)
    assert str(exc.value) == message


def test_defaults_and_edges_are_valid_and_overrides_are_checked_too():
    base = Settings.from_env({})
    assert Settings.from_env({"SOVEI_CANDIDATES": "10000", "SOVEI_BM25_WEIGHT": "0", "SOVEI_FUSION": "dense"}).fusion == "dense"
    with pytest.raises(ConfigError, match=r"^SOVEI_QUESTION_WEIGHT=-0.5 is out of range; valid values: 0 to 100$"):
        dataclasses.replace(base, question_weight=-0.5)  # what make eval's --config systems go through


def test_law_dirs_default_to_the_shared_laws_when_present_and_empty_means_none(tmp_path):
    from indexer.settings import LAWS_DIR

    assert Settings.from_env({}).law_dirs == ((LAWS_DIR,) if LAWS_DIR.is_dir() else ())
    assert Settings.from_env({"SOVEI_LAW_DIRS": ""}).law_dirs == ()
    assert Settings.from_env({"SOVEI_LAW_DIRS": f"{tmp_path}:{tmp_path}"}).law_dirs == (tmp_path, tmp_path)


def test_every_number_and_choice_has_its_valid_values():
    for f in dataclasses.fields(Settings):
        if f.type in ("int", "float") or f.name == "fusion":
            assert "range" in f.metadata or "valid" in f.metadata, f"{f.name} has no valid values"


def test_the_fusion_methods_are_the_settings_values():
    from search_api.search import FUSIONS as METHODS

    assert set(METHODS) == set(FUSIONS)


def _run(cmd: list[str], env: dict) -> subprocess.CompletedProcess:
    """Run a command in its own process group; if it is still running after 120 s (it started a server),
    stop the whole group and fail."""
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.communicate()
        pytest.fail(f"{' '.join(cmd)} did not stop at start")
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


MESSAGE = "SOVEI_FUSION='bogus' is not a valid value; valid values: learned, rrf, weighted, bm25, dense"


def test_serve_index_and_run_stop_at_start_on_an_invalid_setting(tmp_path):
    env = {"SOVEI_FUSION": "bogus", "SOVEI_INDEX_DIR": str(tmp_path / "index")}
    serve = _run([sys.executable, "-m", "search_api"], env)
    assert serve.returncode == 2 and f"Kan ikke starte: {MESSAGE}" in serve.stderr
    index = _run([sys.executable, "-m", "indexer", "--quiet"], env)
    assert index.returncode == 3 and f"Invalid setting, nothing done: {MESSAGE}" in index.stderr
    assert not (tmp_path / "index").exists()
    run = _run(["make", "-s", "run"], env)
    assert run.returncode != 0 and MESSAGE in run.stderr
    assert "SoVei kunnskapsbank: http" not in run.stdout and "serving the previous one" not in run.stdout
