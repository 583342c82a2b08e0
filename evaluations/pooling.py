"""Pooled judging: grade the unjudged documents that systems put in their top 10, with two blind readers.

The questions' writers judged by reading the corpus, before any engine output existed; documents they did
not think of count as not relevant. Pooling (as in TREC) judges the union of the systems' top 10 instead:

  python -m evaluations.pooling packets DIR       # DIR/<theme>/questions.jsonl + docs/: first reader's packets
                                                  # (--controls 0.3: a later round, unjudged pairs + 30 % judged)
  (reader A grades every pair of a packet into DIR/<theme>/judge-A.jsonl, following BRIEF.md there)
  python -m evaluations.pooling second DIR        # DIR/<theme>/second/: the pairs A graded ≥ 1, and as many
                                                  # A graded 0 (decoys), for reader B → second/judge-B.jsonl
  python -m evaluations.pooling merge DIR NAME    # → suites/practitioner/pooled/NAME.jsonl, agreement printed

The packets list each question's documents alphabetically and mix in the already judged ones, so a reader
sees neither the systems' order nor which documents are new. A pair unjudged by the writers gets the lower
of the two readers' grades (0 when A gave 0): a document enters the judgments only when both readers find
it relevant.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import shutil
import sys
from collections import Counter, defaultdict
from pathlib import Path

from indexer.settings import Settings

from .assemble_practitioner import FOLDER
from .harness import evaluate_suite
from .suites import practitioner
from .systems import BUILTIN

DEPTH = 10
BRIEF = Path(__file__).with_name("judging-brief.md")


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _write_jsonl(path: Path, rows) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def _judged(suite, but: str | None = None) -> tuple[dict[str, dict[str, int]], set[tuple[str, str]]]:
    """(the writers' judgments, the pairs earlier pooling rounds judged — all rounds but the one named `but`)."""
    earlier = {(r["qid"], r["doc"]) for f in (FOLDER / "pooled").glob("*.jsonl") if f.stem != but for r in _jsonl(f)}
    return suite.qrels_written or suite.qrels, earlier


def _write_packet(folder: Path, items: list[dict], suite, out: Path) -> None:
    texts = {d.id: (d.title, d.body or "\n\n".join(d.pages)) for d in suite.documents}
    _write_jsonl(folder / "questions.jsonl", items)
    for doc in sorted({d for it in items for d in it["documents"]}):
        title, text = texts[doc]
        (folder / "docs").mkdir(parents=True, exist_ok=True)
        (folder / "docs" / f"{doc}.md").write_text(f"# {title}\n\n{text}\n", encoding="utf-8")
    shutil.copy(BRIEF, out / "BRIEF.md")


def packets(out: Path, controls: float | None = None, seed: int = 1) -> None:
    """One packet per theme: each question with the union of bm25, dense and hybrid's top 10 documents.

    `controls`: a later round. Only the pairs nobody has judged (neither the writers nor an earlier round), plus
    pairs the writers judged from the same pool, as many as this share of the new ones (at least one per
    question), mixed in so the reader still cannot tell which are new, and so reader A's grades can be checked
    against the writers' (`merge` prints the agreement)."""
    if controls is not None and controls < 0:
        raise SystemExit(f"--controls must be 0 or more (got {controls})")
    suite = practitioner(Settings.from_env())
    results = evaluate_suite(suite, BUILTIN, Settings.from_env())
    written, earlier = _judged(suite)
    by_theme: dict[str, list[dict]] = defaultdict(list)
    for qid in suite.qrels:
        pool = sorted({d for r in results for d in list(r.run[qid])[:DEPTH]} - {"__none__"})
        if controls is not None:
            new = [d for d in pool if d not in written.get(qid, {}) and (qid, d) not in earlier]
            judged = [d for d in pool if d in written.get(qid, {})]
            rng = random.Random(f"{seed}:{qid}")
            want = math.ceil(controls * len(new))
            pool = sorted(new + rng.sample(judged, min(len(judged), want))) if new else []
        if pool:
            by_theme[suite.query_meta[qid]["theme"]].append(
                {"qid": qid, "question": suite.queries[qid], "documents": pool})
    for theme, items in by_theme.items():
        _write_packet(out / theme, items, suite, out)
    pairs = sum(len(it["documents"]) for items in by_theme.values() for it in items)
    new = sum(1 for items in by_theme.values() for it in items for d in it["documents"]
              if d not in written.get(it["qid"], {}) and (it["qid"], d) not in earlier)
    print(f"{len(by_theme)} packets in {out}: {pairs} pairs, {new} of them judged by nobody yet")


def second(out: Path, seed: int = 1) -> None:
    """Reader B's packets: every pair A graded ≥ 1 and an equal random sample of A's 0s, in one list."""
    suite = practitioner(Settings.from_env())
    for theme_dir in sorted(p for p in out.iterdir() if (p / "judge-A.jsonl").exists()):
        if (theme_dir / "second" / "questions.jsonl").exists():
            continue  # made before (reader B may be at work on it): keep it
        rng = random.Random(f"{seed}:{theme_dir.name}")  # a theme's sample does not depend on the others
        a = _jsonl(theme_dir / "judge-A.jsonl")
        relevant = [(r["qid"], r["doc"]) for r in a if r["grade"] > 0]
        zeros = [(r["qid"], r["doc"]) for r in a if r["grade"] == 0]
        chosen = set(relevant) | set(rng.sample(zeros, min(len(zeros), len(relevant))))
        items = [{"qid": it["qid"], "question": it["question"],
                  "documents": [d for d in it["documents"] if (it["qid"], d) in chosen]}
                 for it in _jsonl(theme_dir / "questions.jsonl")]
        _write_packet(theme_dir / "second", [it for it in items if it["documents"]], suite, out)
        print(f"{theme_dir.name}: {len(chosen)} pairs for reader B ({len(relevant)} graded ≥ 1 by A)")


def kappa(pairs: list[tuple[int, int]]) -> float:
    """Cohen's kappa of two readers' grades on the same pairs."""
    n = len(pairs)
    if n == 0:
        return float("nan")
    observed = sum(1 for x, y in pairs if x == y) / n
    ca, cb = Counter(x for x, _ in pairs), Counter(y for _, y in pairs)
    expected = sum(ca[g] * cb[g] for g in (0, 1, 2)) / (n * n)
    return (observed - expected) / (1 - expected) if expected < 1 else 1.0


def combine(a: dict, b: dict, written: dict, earlier: set, where: str = "") -> tuple[list, list, list]:
    """Reader A's and B's grades ((qid, doc) → {"grade", "why"}) → (pooled records for the pairs nobody judged
    before, (written grade, A's grade) on the pairs the writers judged, (A, B) on the pairs both graded)."""
    records, controls, ab = [], [], []
    for (qid, doc), ra in sorted(a.items()):
        rb = b.get((qid, doc))
        if rb is not None:
            ab.append((ra["grade"], rb["grade"]))
        if doc in written.get(qid, {}):
            controls.append((written[qid][doc], ra["grade"]))
            continue
        if (qid, doc) in earlier:  # judged by an earlier pooling round
            continue
        if ra["grade"] > 0 and rb is None:
            raise SystemExit(f"{where}: reader B has not graded {qid} / {doc}, which reader A graded {ra['grade']}")
        judges = [ra["grade"]] + ([rb["grade"]] if rb else [])
        records.append({"qid": qid, "doc": doc, "grade": min(judges), "judges": judges,
                        "why": [ra.get("why", "")] + ([rb.get("why", "")] if rb else [])})
    return records, controls, ab


def merge(out: Path, name: str) -> None:
    """Both readers' grades → pooled/NAME.jsonl for the pairs the writers left unjudged; agreement printed."""
    suite = practitioner(Settings.from_env())
    written, earlier = _judged(suite, but=name)
    records, controls, ab = [], [], []
    for theme_dir in sorted(p for p in out.iterdir() if (p / "judge-A.jsonl").exists()):
        a = {(r["qid"], r["doc"]): r for r in _jsonl(theme_dir / "judge-A.jsonl")}
        b_path = theme_dir / "second" / "judge-B.jsonl"
        b = {(r["qid"], r["doc"]): r for r in _jsonl(b_path)} if b_path.exists() else {}
        asked = {(it["qid"], d) for it in _jsonl(theme_dir / "questions.jsonl") for d in it["documents"]}
        missing = asked - set(a)
        if missing:
            raise SystemExit(f"{theme_dir / 'judge-A.jsonl'}: {len(missing)} pairs not graded, e.g. {min(missing)}")
        got = combine(a, b, written, earlier, str(b_path))
        for acc, new in zip((records, controls, ab), got):
            acc += new
    _write_jsonl(FOLDER / "pooled" / f"{name}.jsonl", records)
    grades = Counter(r["grade"] for r in records)
    print(f"{len(records)} unjudged pairs → grade 2: {grades[2]}, grade 1: {grades[1]}, 0: {grades[0]}")
    hits = Counter(controls)
    print(f"reader A on {len(controls)} pairs the writers judged: " + ", ".join(
        f"written {w} → A {g}: {hits[(w, g)]}" for w in (1, 2) for g in (0, 1, 2)))
    print(f"readers A and B on {len(ab)} pairs: same grade {sum(x == y for x, y in ab) / max(len(ab), 1):.0%}, "
          f"Cohen's kappa {kappa(ab):.2f}; both ≥ 1 or both 0: "
          f"{sum((x > 0) == (y > 0) for x, y in ab) / max(len(ab), 1):.0%}")
    print("next: python -m evaluations.assemble_practitioner, then make eval")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="evaluations.pooling", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    for cmd in ("packets", "second", "merge"):
        p = sub.add_parser(cmd)
        p.add_argument("dir", type=Path)
        if cmd == "packets":
            p.add_argument("--controls", type=float, help="a later round: only unjudged pairs, plus this share "
                           "of judged ones as controls (e.g. 0.3)")
        if cmd == "merge":
            p.add_argument("name", help="file name under suites/practitioner/pooled/ (without .jsonl)")
    args = ap.parse_args(argv)
    {"packets": lambda: packets(args.dir, args.controls), "second": lambda: second(args.dir),
     "merge": lambda: merge(args.dir, args.name)}[args.cmd]()
    return 0


if __name__ == "__main__":
    sys.exit(main())
