"""parts/*.jsonl (queries with their judgments, written by the judges) → BEIR layout in suites/practitioner/.

Also writes corpus.jsonl from corpus/ so the suite is a complete BEIR folder. Rerun after adding queries:
  python -m evaluations.assemble_practitioner
"""

from __future__ import annotations

import json
import sys

from indexer.load import load_corpus
from indexer.settings import Settings
from indexer.themes import find_themes_file, load_themes

from .suites import SUITES_DIR

FOLDER = SUITES_DIR / "practitioner"


def main() -> int:
    rows = []
    for part in sorted((FOLDER / "parts").glob("*.jsonl")):
        for n, line in enumerate(part.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip():
                row = json.loads(line)
                row["_part"] = f"{part.name}:{n}"
                rows.append(row)
    settings = Settings.from_env()
    themes = load_themes(find_themes_file(settings.corpus_dirs))
    docs = load_corpus(settings.corpus_dirs, {t.id for t in themes}).documents
    ids = {d.id for d in docs}
    problems = [f"{r['_part']}: unknown document {d!r}" for r in rows for d in r["judgments"] if d not in ids]
    problems += [f"{r['_part']}: grade {g} for {d!r} is not 1 or 2" for r in rows for d, g in r["judgments"].items()
                 if g not in (1, 2)]
    seen = set()
    for r in rows:
        if r["_id"] in seen:
            problems.append(f"{r['_part']}: duplicate query id {r['_id']!r}")
        seen.add(r["_id"])
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    with (FOLDER / "queries.jsonl").open("w", encoding="utf-8") as fh:
        for r in rows:
            meta = {"theme": r["theme"], "group": r["group"]}
            if r.get("note"):
                meta["note"] = r["note"]
            fh.write(json.dumps({"_id": r["_id"], "text": r["text"], "metadata": meta}, ensure_ascii=False) + "\n")
    with (FOLDER / "qrels.tsv").open("w", encoding="utf-8") as fh:
        fh.write("query-id\tcorpus-id\tscore\n")
        for r in rows:
            for d, g in sorted(r["judgments"].items()):
                fh.write(f"{r['_id']}\t{d}\t{g}\n")
    with (FOLDER / "corpus.jsonl").open("w", encoding="utf-8") as fh:
        for d in sorted(docs, key=lambda d: d.id):
            text = d.body or "\n\n".join(d.pages)
            fh.write(json.dumps({"_id": d.id, "title": d.title, "text": text}, ensure_ascii=False) + "\n")
    groups = {}
    for r in rows:
        groups[r["group"]] = groups.get(r["group"], 0) + 1
    print(f"{len(rows)} queries ({', '.join(f'{g} {n}' for g, n in sorted(groups.items()))}), "
          f"{sum(len(r['judgments']) for r in rows)} judgments, {len(docs)} documents")
    return 0


if __name__ == "__main__":
    sys.exit(main())
