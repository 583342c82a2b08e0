"""Vector-search scale: flat vs approximate indexes on synthetic corpora built around real passage vectors.

Synthetic vectors are real corpus vectors plus Gaussian noise (then normalised), so they keep the
clustered shape of real embeddings; uniform random vectors would make every ANN index look worse.
"""

from __future__ import annotations

import time

import faiss
import numpy as np

from indexer.write import vector_index_for


def synthetic(base: np.ndarray, n: int, rng: np.random.Generator, noise: float = 0.03) -> np.ndarray:
    idx = rng.integers(0, len(base), size=n)
    out = np.empty((n, base.shape[1]), dtype=np.float32)
    step = 200_000
    for i in range(0, n, step):
        part = base[idx[i:i + step]] + rng.normal(0, noise, size=(min(step, n - i), base.shape[1])).astype(np.float32)
        out[i:i + step] = part / np.linalg.norm(part, axis=1, keepdims=True)
    return out


def _search_ms(index, queries: np.ndarray, k: int, params=None) -> tuple[list[float], np.ndarray]:
    times, ids = [], []
    for q in queries:
        t0 = time.perf_counter()
        _, i = index.search(q.reshape(1, -1), k, params=params)
        times.append((time.perf_counter() - t0) * 1000)
        ids.append(i[0])
    return times, np.array(ids)


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth)]))


def scale_rows(base: np.ndarray, sizes=(10_000, 100_000, 1_000_000), n_queries: int = 100, seed: int = 7) -> list[dict]:
    rng = np.random.default_rng(seed)
    rows = []
    for n in sizes:
        data = synthetic(base, n, rng)
        queries = synthetic(base, n_queries, rng, noise=0.03)
        flat = faiss.IndexFlatIP(data.shape[1])
        flat.add(data)
        t_flat, truth = _search_ms(flat, queries, 10)
        rows.append({"n": n, "index": "flat", "build_s": 0.0, "p50_ms": float(np.median(t_flat)),
                     "recall@10": 1.0, "bytes": n * data.shape[1] * 4})
        ann, params, build_s = None, None, 0.0
        t0 = time.perf_counter()
        ann, params = vector_index_for(n, data.shape[1], train=data, force_ann=True)
        ann.add(data)
        build_s = time.perf_counter() - t0
        t_ann, found = _search_ms(ann, queries, 10, params)
        rows.append({"n": n, "index": type(ann).__name__ + _describe(params), "build_s": build_s,
                     "p50_ms": float(np.median(t_ann)), "recall@10": recall(found, truth),
                     "bytes": _index_bytes(ann)})
        # a narrow filter (1 % of the rows): filtered ANN must still return the right rows
        allowed = np.sort(rng.choice(n, size=max(10, n // 100), replace=False)).astype(np.int64)
        sel = faiss.IDSelectorBatch(allowed)
        _, ftruth = _search_ms(flat, queries[:20], 10, faiss.SearchParameters(sel=sel))
        fparams = _filtered_params(ann, params, sel, len(allowed))
        ft, ffound = _search_ms(ann, queries[:20], 10, fparams)
        rows[-1]["filtered_recall@10"] = recall(ffound, ftruth)
        rows[-1]["filtered_p50_ms"] = float(np.median(ft))
        del data, flat, ann
    return rows


def _describe(params) -> str:
    if isinstance(params, faiss.SearchParametersIVF):
        return f"(nprobe={params.nprobe})"
    if isinstance(params, faiss.SearchParametersHNSW):
        return f"(efSearch={params.efSearch})"
    return ""


def _filtered_params(index, params, sel, allowed: int):
    if isinstance(params, faiss.SearchParametersIVF):
        from search_api.retrieve import filtered_nprobe  # the rule the service uses

        return faiss.SearchParametersIVF(sel=sel, nprobe=filtered_nprobe(index, allowed))
    return faiss.SearchParameters(sel=sel)


def _index_bytes(index) -> int:
    return len(faiss.serialize_index(index))
