"""Editors' bad input: every odd PDF is indexed or skipped with a reason; a killed build changes nothing."""

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
import yaml

from indexer.build import build_index
from indexer.errors import DocumentError
from indexer.load import load_corpus
from indexer.pdf import extract_pages
from indexer.settings import ROOT

from .conftest import shared_or_skip

REASONS = ("encrypted", "no text layer", "unreadable", "not a PDF", "empty")


def test_every_robustness_pdf_is_read_or_refused_with_a_reason():
    folder = shared_or_skip("corpus-public", "pdf-robustness")
    outcomes = {}
    for pdf in sorted(folder.glob("*.pdf")):
        try:
            pages = extract_pages(pdf, timeout_s=30)
            outcomes[pdf.name] = f"{len(pages)} pages"
            assert any(p.strip() for p in pages)
        except DocumentError as exc:
            assert pdf.name in str(exc) and any(r in str(exc) for r in REASONS), str(exc)
            outcomes[pdf.name] = str(exc).split(": ", 1)[1]
    assert len(outcomes) == 30
    assert sum(v.endswith("pages") for v in outcomes.values()) == 17  # 13 refused, each with its reason
    assert outcomes["r3-user-password.pdf"] == "encrypted: a password is required to open it"
    assert outcomes["GeoBase_NHNC1_Data_Model_UML_EN.pdf"] == "19 pages"


def test_a_pdf_that_outruns_its_time_limit_is_refused_not_waited_for():
    pdf = shared_or_skip("corpus-public", "pdf-robustness", "GeoBase_NHNC1_Data_Model_UML_EN.pdf")
    with pytest.raises(DocumentError, match="text extraction took longer than 0.01 s"):
        extract_pages(pdf, timeout_s=0.01)


def test_lenient_build_indexes_good_pdfs_and_reports_broken(mini_settings, mini_corpus):
    folder = shared_or_skip("corpus-public", "pdf-robustness")
    meta = yaml.safe_load((mini_corpus / "docs" / "skolefravaer.pdf.yml").read_text(encoding="utf-8"))
    for name in ("broken-truncated-half.pdf", "r3-user-password.pdf", "crazyones.pdf"):
        shutil.copy(folder / name, mini_corpus / "docs" / name)
        side = dict(meta, id=name.removesuffix(".pdf").lower().replace("_", "-"))
        (mini_corpus / "docs" / (name + ".yml")).write_text(yaml.safe_dump(side, allow_unicode=True), encoding="utf-8")
    summary = build_index(mini_settings, strict=False)
    assert summary.documents == 5  # the four of the toy corpus + crazyones
    assert sorted((p.path.rsplit("/", 1)[1], p.problem.split(" (")[0]) for p in summary.skipped) == [
        ("broken-truncated-half.pdf", "unreadable PDF"),
        ("r3-user-password.pdf", "encrypted: a password is required to open it"),
    ]


@pytest.mark.slow
def test_sigkill_mid_build_leaves_served_index_intact(mini_settings, mini_corpus):
    build_index(mini_settings)
    served = os.readlink(mini_settings.current_index)
    # new text forces embedding work, so the kill lands mid-build
    for i in range(40):
        (mini_corpus / "docs" / f"ny-{i}.md").write_text(
            (mini_corpus / "docs" / "mobbing-i-friminuttet.md").read_text(encoding="utf-8")
            .replace("id: mobbing-i-friminuttet", f"id: ny-{i}") + f"\nEkstra avsnitt nummer {i} om friminutt.\n",
            encoding="utf-8")
    env = {**os.environ, "SOVEI_CORPUS_DIRS": str(mini_corpus), "SOVEI_INDEX_DIR": str(mini_settings.index_dir),
           "SOVEI_CACHE_DIR": str(mini_settings.cache_dir)}

    def writing() -> bool:
        return any(mini_settings.index_dir.glob(".building-*"))

    # Kill points chosen by what the build is doing, not by the clock (a fixed delay once let a fast build
    # finish first): half a second in, while the model loads (nothing written yet), and the moment the new
    # generation's .building-* folder appears, while it is being written and before it could go live.
    for ready, within in ((lambda: False, 0.5), (writing, 120.0)):
        proc = subprocess.Popen([sys.executable, "-m", "indexer", "--quiet"], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + within
        while proc.poll() is None and not ready() and time.monotonic() < deadline:
            time.sleep(0.002)
        assert proc.poll() is None, "the build ended before the kill point"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert os.readlink(mini_settings.current_index) == served
        assert (mini_settings.current_index / "manifest.json").exists()
    assert writing()  # the second kill did land mid-write: its folder is left for the next build to remove
    summary = build_index(mini_settings)  # the next build succeeds and cleans up
    assert summary.documents == 44
    assert not list(mini_settings.index_dir.glob(".building-*"))


def test_a_law_text_in_a_corpus_folder_is_pointed_to_sovei_law_dirs(tmp_path, mini_corpus):
    laws = shared_or_skip("corpus-public", "laws")
    shutil.copy(laws / "lov-1967-02-10-forvaltningsloven.md", mini_corpus / "docs")
    loaded = load_corpus([mini_corpus], {"mobbeforebygging", "foreldresamarbeid", "selvskading", "psykisk-helse",
                                         "trivsel-inkludering", "barnesamtalen"})
    assert [str(p) for p in loaded.problems] == [
        "corpus/docs/lov-1967-02-10-forvaltningsloven.md: field 'refid': is a law text (norwegian-laws format), not a "
        "bank document; put its folder in SOVEI_LAW_DIRS instead of the corpus folders"]