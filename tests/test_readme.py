"""Every route, make target, CLI option and setting is documented in the README."""

import re
from dataclasses import fields

from indexer.settings import ROOT, Settings

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_route_is_in_the_readme():
    from search_api.app import create_app

    app = create_app()
    paths = {r.path for r in app.routes if not r.path.startswith(("/schema", "/static"))}
    assert paths >= {"/api/search", "/api/themes", "/api/documents/{doc_id:str}", "/healthz", "/"}
    for path in paths:
        shown = re.sub(r"\{(\w+):\w+\}", r"{\1}", path)
        assert f"`GET {shown}`" in README, f"route {shown} is not in README.md"


def test_every_make_target_is_in_the_readme():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = re.findall(r"^([a-z-]+):.*##", makefile, re.M)
    assert "run" in targets and "test" in targets
    for t in targets:
        assert f"make {t}" in README, f"make {t} is not in README.md"


def test_every_cli_option_and_setting_is_in_the_readme():
    from indexer import cli

    for cli_file in ("indexer/cli.py", "search_api/replicas.py", "search_api/nginx.py", "bench/loadtest.py",
                     "bench/loadtest_replicas.py"):
        for opt in re.findall(r'add_argument\("(--[a-z0-9-]+)"', (ROOT / cli_file).read_text()):
            assert f"`{opt}" in README, f"{cli_file}: {opt} is not in README.md"
    for f in fields(Settings):
        assert "SOVEI_" + f.name.upper() in README, f"SOVEI_{f.name.upper()} is not in README.md"
    assert cli.main


def test_the_readme_gives_every_settings_valid_values():
    from indexer.settings import env_name, valid_values

    rows = {ln.split("`")[1]: ln for ln in README.splitlines() if ln.startswith("| `SOVEI_")}
    for f in fields(Settings):
        row = next(r for name, r in rows.items() if name == env_name(f.name) or env_name(f.name) in r)
        assert valid_values(f) in row, f"README's row for {env_name(f.name)} lacks its valid values {valid_values(f)!r}"


def test_ci_runs_exactly_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci and "make test" in README
