"""parts/*.jsonl (queries with their judgments, written by the judges) + pooled/*.jsonl (judgments added
later for unjudged documents that systems ranked in their top 10) → BEIR layout in suites/practitioner/.

qrels.tsv holds both; qrels-written.tsv only the judgments written with the questions, so a report can show
what pooling changed. Also writes corpus.jsonl from corpus/ so the suite is a complete BEIR folder. Rerun
after adding queries or pooled judgments:
  python -m evaluations.assemble_practitioner
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from indexer.errors import SoveiError
from indexer.laws import is_law_document, mapped_refids
from indexer.load import load_corpus
from indexer.settings import Settings
from indexer.themes import find_themes_file, load_themes

from .suites import SUITES_DIR

FOLDER = SUITES_DIR / "practitioner"


def read_jsonl(folder: Path, label: str) -> list[tuple[str, dict]]:
    """(label/file:line, record) for every line of folder/*.jsonl, files in name order."""
    out = []
    for path in sorted(folder.glob("*.jsonl")) if folder.exists() else []:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip():
                try:
                    out.append((f"{label}/{path.name}:{n}", json.loads(line)))
                except json.JSONDecodeError as exc:
                    raise SoveiError(f"{path}:{n}: not JSON ({exc})") from None
    return out


def problems(rows: list[tuple[str, dict]], pooled: list[tuple[str, dict]], doc_ids: set[str]) -> list[str]:
    """Everything wrong with the questions (parts/) and the pooled judgments, each naming its file and line.
    A pooled record is {"qid", "doc", "grade": 0–2, "judges": [grades], "why": [reasons]}; pooling only adds
    judgments for pairs the question's writers left unjudged."""
    out, seen = [], {}
    for where, r in rows:
        if r["_id"] in seen:
            out.append(f"{where}: duplicate query id {r['_id']!r}")
        seen[r["_id"]] = r
        out += [f"{where}: unknown document {d!r}" for d in r["judgments"] if d not in doc_ids]
        out += [f"{where}: grade {g} for {d!r} is not 1 or 2" for d, g in r["judgments"].items() if g not in (1, 2)]
    pairs = set()
    for where, p in pooled:
        qid, doc = p.get("qid"), p.get("doc")
        if (qid, doc) in pairs:
            out.append(f"{where}: {qid} / {doc} is judged twice in pooled/")
        pairs.add((qid, doc))
        if qid not in seen:
            out.append(f"{where}: unknown query {qid!r}")
        elif doc not in doc_ids:
            out.append(f"{where}: unknown document {doc!r}")
        elif doc in seen[qid]["judgments"]:
            out.append(f"{where}: {qid} already judges {doc!r} in its part (pooling only adds)")
        elif p.get("grade") not in (0, 1, 2):
            out.append(f"{where}: grade {p.get('grade')!r} is not 0, 1 or 2")
    return out


def known_documents(documents, pooled: list[tuple[str, dict]], corpus_dirs) -> set[str]:
    """The document ids a judgment may name: the loaded documents and, when the law texts are not loaded
    (a clone without ../shared), the law chapters the pooled judgments name: those cannot be checked here,
    and the suite does not count them (suites.practitioner)."""
    known = {d.id for d in documents}
    if not any(d.content_type == "lov" for d in documents):
        refids = mapped_refids(corpus_dirs)
        known |= {p["doc"] for _, p in pooled if is_law_document(str(p.get("doc")), refids)}
    return known


def qrels(rows: list[tuple[str, dict]], pooled: list[tuple[str, dict]]) -> dict[str, dict[str, int]]:
    """Query id → document → grade: the written judgments plus the pooled ones above 0."""
    out = {r["_id"]: dict(r["judgments"]) for _, r in rows}
    for _, p in pooled:
        if p["grade"] > 0:
            out[p["qid"]][p["doc"]] = p["grade"]
    return out


def write_qrels(path: Path, judged: dict[str, dict[str, int]]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        fh.write("query-id\tcorpus-id\tscore\n")
        for qid, docs in judged.items():
            for d, g in sorted(docs.items()):
                fh.write(f"{qid}\t{d}\t{g}\n")


def main() -> int:
    try:
        rows = read_jsonl(FOLDER / "parts", "parts")
        pooled = read_jsonl(FOLDER / "pooled", "pooled")
    except SoveiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    settings = Settings.from_env()
    themes = load_themes(find_themes_file(settings.corpus_dirs))
    loaded = load_corpus(settings.corpus_dirs, {t.id for t in themes}, settings.pdf_timeout_s,
                         law_dirs=settings.law_dirs).documents
    docs = [d for d in loaded if not d.law]  # corpus.jsonl: the bank's own writing only, never the law texts
    wrong = problems(rows, pooled, known_documents(loaded, pooled, settings.corpus_dirs))
    if wrong:
        print("\n".join(wrong), file=sys.stderr)
        return 1
    with (FOLDER / "queries.jsonl").open("w", encoding="utf-8") as fh:
        for _, r in rows:
            meta = {"theme": r["theme"], "group": r["group"]}
            if r.get("note"):
                meta["note"] = r["note"]
            fh.write(json.dumps({"_id": r["_id"], "text": r["text"], "metadata": meta}, ensure_ascii=False) + "\n")
    judged, written = qrels(rows, pooled), qrels(rows, [])
    write_qrels(FOLDER / "qrels.tsv", judged)
    write_qrels(FOLDER / "qrels-written.tsv", written)
    with (FOLDER / "corpus.jsonl").open("w", encoding="utf-8") as fh:
        for d in sorted(docs, key=lambda d: d.id):
            fh.write(json.dumps(corpus_row(d), ensure_ascii=False) + "\n")
    groups = Counter(r["group"] for _, r in rows)
    n_written = sum(len(v) for v in written.values())
    print(f"{len(rows)} queries ({', '.join(f'{g} {n}' for g, n in sorted(groups.items()))}), "
          f"{n_written} judgments written with the questions, "
          f"{sum(len(v) for v in judged.values()) - n_written} added by pooling ({len(pooled)} pooled pairs judged), "
          f"{len(docs)} documents")
    return 0


def corpus_row(d) -> dict:
    return {"_id": d.id, "title": d.title, "text": d.body or "\n\n".join(d.pages)}


if __name__ == "__main__":
    sys.exit(main())
