"""Benchmark suites in BEIR layout (corpus.jsonl, queries.jsonl, qrels.tsv) → documents to index and judgments."""

from __future__ import annotations

import csv
import hashlib
import json
import random
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from indexer.documents import Document, Theme
from indexer.errors import SuiteMissing
from indexer.laws import is_law_document, mapped_refids, section_id
from indexer.load import load_corpus
from indexer.settings import ROOT, Settings
from indexer.themes import find_themes_file, load_themes

SUITES_DIR = ROOT / "evaluations" / "suites"
NORQUAD_DIR = ROOT.parent / "shared" / "benchmarks" / "norquad-val"
LANGUAGE_GROUP = {"nb": "bokmal", "nn": "nynorsk", "en": "english"}
"""A question's `language` (nb, nn, en) → its report group, as the practitioner suite names them."""


@dataclass
class Suite:
    name: str
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]
    documents: list[Document]
    themes: list[Theme]
    query_meta: dict[str, dict] = field(default_factory=dict)
    expected_path: Path | None = None
    qrels_written: dict[str, dict[str, int]] | None = None
    """The judgments written with the questions, before pooling added judged documents from systems' top 10
    (None when the suite was never pooled)."""
    unit: str = "document"
    """What a judgment names: a `document` id, or a law `section` (`lov/2023-06-09-30/§12-4`): a result then
    counts as the section of its cited passage (a law hit) or as its document (any other)."""
    cache_subdir: str | None = None
    """Embedding cache folder under SOVEI_CACHE_DIR for passages outside the bank (None: the bank's cache)."""
    parts: list["Suite"] = field(default_factory=list)
    """A pooled suite: each part is indexed and ranked on its own, and the per-question scores of all parts
    are averaged together (query ids are prefixed with the part's number)."""
    robustness: bool = False
    """The served hybrid must not fall below the better single retriever here (`make eval` fails if it does)."""

    @property
    def graded(self) -> bool:
        """Judgments use grades above 1 (the practitioner suite: 1 = useful, 2 = answers it)."""
        return any(g > 1 for q in self.qrels.values() for g in q.values())

    def groups(self, key: str) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for qid in self.qrels:
            value = self.query_meta.get(qid, {}).get(key)
            if value:
                out.setdefault(value, []).append(qid)
        return dict(sorted(out.items()))


def read_queries(path: Path) -> tuple[dict[str, str], dict[str, dict]]:
    queries, meta = {}, {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            queries[row["_id"]] = row["text"]
        except (json.JSONDecodeError, KeyError) as exc:
            raise SuiteMissing(f"{path}:{n}: not a query line with _id and text ({exc})") from None
        meta[row["_id"]] = row.get("metadata") or {}
    return queries, meta


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            qrels.setdefault(row["query-id"], {})[row["corpus-id"]] = int(row["score"])
    return qrels


def _load_bank(settings: Settings):
    """corpus/ as served, with the law texts of SOVEI_LAW_DIRS (read where they lie), and its themes."""
    themes = load_themes(find_themes_file(settings.corpus_dirs))
    return load_corpus(settings.corpus_dirs, {t.id for t in themes}, settings.pdf_timeout_s,
                       law_dirs=settings.law_dirs), themes


def practitioner(settings: Settings) -> Suite:
    """Our own questions, judged at document level against corpus/, indexed exactly as served (with the law
    texts of SOVEI_LAW_DIRS; the law chapters the systems rank in their top 10 are judged by pooling,
    suites/practitioner/pooled/)."""
    folder = SUITES_DIR / "practitioner"
    queries, meta = read_queries(folder / "queries.jsonl")
    qrels = read_qrels(folder / "qrels.tsv")
    loaded, themes = _load_bank(settings)
    have = {d.id for d in loaded.documents}
    if not any(d.law for d in loaded.documents):
        # pooled judgments of law chapters count only when the law texts are in the bank (a clone without
        # ../shared searches the bank alone: expected-without-laws.json); with them, a judged chapter that
        # is missing (renumbered, or a law left out) is an error below, not a silent change of the judgments
        refids = mapped_refids(settings.corpus_dirs)
        qrels = {q: {d: g for d, g in judged.items() if not is_law_document(d, refids)} for q, judged in qrels.items()}
    missing = {d for q in qrels.values() for d in q} - have
    if missing:
        raise SuiteMissing(f"{folder / 'qrels.tsv'} judges documents not in the corpus: {', '.join(sorted(missing))}")
    written = read_qrels(folder / "qrels-written.tsv") if (folder / "qrels-written.tsv").exists() else None
    # the pins hold for one collection: the bank with the law texts, or (a clone without ../shared) without them
    expected = folder / ("expected.json" if settings.law_dirs else "expected-without-laws.json")
    return Suite("practitioner", queries, qrels, loaded.documents, themes, meta, expected, written, robustness=True)


def beir_documents(folder: Path, name: str, theme: str = "norquad", publisher: str = "NorQuAD",
                   url: str = "https://github.com/ltgoslo/NorQuAD") -> list[Document]:
    """A BEIR corpus.jsonl as bank documents (one theme), for our indexer to chunk like any other."""
    docs = []
    for line in (folder / "corpus.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        body = row["text"]
        docs.append(Document(
            id=row["_id"], title=row.get("title", ""), themes=(theme,), content_type="kunnskap",
            audience=("sosialfaglig",), publisher=publisher, source_url=url,
            published=date(2023, 1, 1), language="nb", sources=(), last_reviewed=date(2023, 1, 1),
            path=f"{name}/{row['_id']}", kind="markdown", body=body,
            sha256=hashlib.sha256((row.get("title", "") + "\n" + body).encode()).hexdigest()))
    return docs


def legal(settings: Settings) -> Suite:
    """Legal questions judged to law sections (suites/legal/README.md), over the bank as served: corpus/ and
    the law texts read where they lie (no corpus.jsonl: the law texts are not copied into the repository)."""
    folder = SUITES_DIR / "legal"
    queries, meta = read_queries(folder / "queries.jsonl")
    qrels = read_qrels(folder / "qrels.tsv")
    documents, themes = _bank_with_laws(settings, qrels, folder / "qrels.tsv", "the legal suite")
    return Suite("legal", queries, qrels, documents, themes, meta, folder / "expected.json", unit="section")


def _bank_with_laws(settings: Settings, qrels: dict[str, dict[str, int]], judged_in: Path,
                    who: str) -> tuple[list[Document], list[Theme]]:
    """The bank as served with its law texts; every section `qrels` judges must be in them."""
    if not settings.law_dirs:
        raise SuiteMissing("no law texts (SOVEI_LAW_DIRS is empty, and ../shared/corpus-public/laws is not there); "
                           f"{who} needs them")
    loaded, themes = _load_bank(settings)
    have = {section_id(law.refid, s.number) for law in loaded.laws for s in law.sections}
    missing = sorted({d for q in qrels.values() for d in q} - have)
    if missing:
        raise SuiteMissing(f"{judged_in} judges sections not in the law texts of SOVEI_LAW_DIRS: "
                           f"{', '.join(missing)}")
    return loaded.documents, themes


def legal_training(settings: Settings) -> Suite:
    """The law questions written for training (training/data/law-questions.jsonl), as a suite: where the law
    placement's rules (`search_api.legal`) are tuned before the legal suite confirms them. The learned fusion is
    fitted on these questions, so its figures here are in-sample: a dev suite, never pinned, not in the default
    run (`--suite legal-training`)."""
    from training.examples import LAW_QUESTIONS, read_law_questions

    queries, qrels, meta = {}, {}, {}
    for i, q in enumerate(read_law_questions(LAW_QUESTIONS), start=1):
        qid = f"t-{q['language']}-{i:03d}"
        queries[qid] = q["question"]
        qrels[qid] = {section_id(q["law"], q["section"]): 2}
        meta[qid] = {"group": LANGUAGE_GROUP[q["language"]], "kind": q["kind"]}
    documents, themes = _bank_with_laws(settings, qrels, LAW_QUESTIONS, "the legal-training suite")
    return Suite("legal-training", queries, qrels, documents, themes, meta, None, unit="section")


def norquad(settings: Settings) -> Suite:
    """NorQuAD validation passages (BEIR layout in ../shared), chunked by our indexer, scored per passage."""
    if not (NORQUAD_DIR / "corpus.jsonl").exists():
        raise SuiteMissing(f"norquad-val is not at {NORQUAD_DIR}; skipping it (the shared benchmarks sit beside "
                           "the repository as ../shared)")
    queries, meta = read_queries(NORQUAD_DIR / "queries.jsonl")
    qrels = read_qrels(NORQUAD_DIR / "qrels.tsv")
    docs = beir_documents(NORQUAD_DIR, "norquad-val")
    themes = [Theme("norquad", "NorQuAD", "NorQuAD", "Wikipedia- og nyhetsavsnitt", ())]
    meta = {qid: {"source": (m or {}).get("source")} for qid, m in meta.items()}
    return Suite("norquad-val", queries, qrels, docs, themes, meta, SUITES_DIR / "norquad-val" / "expected.json",
                 cache_subdir="norquad-val", robustness=True)


def paraphrase(settings: Settings) -> Suite:
    """Our paraphrase suite: questions that avoid their passage's words, over 56 short passages outside the
    bank (suites/paraphrase/README.md: who wrote and who judged)."""
    folder = SUITES_DIR / "paraphrase"
    queries, meta = read_queries(folder / "queries.jsonl")
    docs = beir_documents(folder, "paraphrase", theme="paraphrase", publisher="SoVei evaluering", url="")
    themes = [Theme("paraphrase", "Omskrevne spørsmål", "Omskrivne spørsmål", "Korte fagavsnitt", ())]
    return Suite("paraphrase", queries, read_qrels(folder / "qrels.tsv"), docs, themes,
                 {q: {"group": LANGUAGE_GROUP.get(m.get("language"), "bokmal")}
                  for q, m in meta.items()},
                 folder / "expected.json", cache_subdir="paraphrase", robustness=True)


def adapter_dev(settings: Settings) -> Suite:
    """Questions the holdout adapter never trained on, over the bank as served: the editors' and passage
    questions of its held-out documents, and the fusion's paraphrase questions (written for those documents;
    no adapter trains on them). Judged at document level (the document they were written for). Where settings
    of the model itself are chosen — never a confirmation: the fusion is fitted on these questions
    (`--suite adapter-dev`; a dev suite, never pinned, not in the default run)."""
    from evaluations.generalization import holdout_documents
    from training.examples import held_out_passage_rows

    held = holdout_documents()
    if not held:
        raise SuiteMissing("the holdout adapter's card names no held-out documents; the adapter-dev suite needs them")
    loaded, themes = _load_bank(settings)
    have = {d.id for d in loaded.documents}
    rows = [(q, d.id, "editors") for d in sorted(loaded.documents, key=lambda d: d.id) if d.id in held
            for q in d.questions]
    rows += [(r["question"], r["doc_id"], source) for r, source in held_out_passage_rows(held) if r["doc_id"] in have]
    queries, qrels, meta = {}, {}, {}
    for i, (question, doc_id, source) in enumerate(rows, start=1):
        qid = f"d-{source}-{i:04d}"
        queries[qid], qrels[qid], meta[qid] = question, {doc_id: 2}, {"group": source}
    return Suite("adapter-dev", queries, qrels, loaded.documents, themes, meta, None)


SUBCOLLECTION_SAMPLES = {25: 6, 50: 3}
"""Random sub-collections of the bank per size: a question counts in a sample when one of its grade-2
documents is in it (about 50 of the 156 at 25 documents, 80 at 50)."""


def subcollections(size: int):
    def make(settings: Settings) -> Suite:
        """The practitioner questions over random sub-collections of the bank: the same judgments, far fewer
        documents, so BM25's statistics and every ranking rule meet a collection they were not tuned on."""
        full = practitioner(settings)
        rng = random.Random(size)
        ids = sorted(d.id for d in full.documents if d.content_type != "lov")  # the bank's own documents
        parts = []
        for i in range(SUBCOLLECTION_SAMPLES[size]):
            keep = set(rng.sample(ids, size))
            qrels = {q: {d: g for d, g in judged.items() if d in keep} for q, judged in full.qrels.items()}
            qrels = {q: j for q, j in qrels.items() if any(g >= 2 for g in j.values())}
            parts.append(Suite(f"practitioner-{size}", {q: full.queries[q] for q in qrels}, qrels,
                               [d for d in full.documents if d.id in keep], full.themes,
                               {q: full.query_meta.get(q, {}) for q in qrels}))
        pooled = Suite(f"practitioner-{size}", {}, {}, full.documents, full.themes, {},
                       SUITES_DIR / f"practitioner-{size}" / "expected.json", parts=parts, robustness=True)
        for i, part in enumerate(parts):
            for q in part.qrels:
                pooled.queries[f"{i}:{q}"] = part.queries[q]
                pooled.qrels[f"{i}:{q}"] = part.qrels[q]
                pooled.query_meta[f"{i}:{q}"] = part.query_meta[q]
        return pooled
    return make


SUITES = {"practitioner": practitioner, "legal": legal, "practitioner-25": subcollections(25),
          "practitioner-50": subcollections(50), "norquad-val": norquad, "paraphrase": paraphrase,
          "legal-training": legal_training, "adapter-dev": adapter_dev}
DEV_SUITES = {"legal-training", "adapter-dev"}
"""Run only when asked for (`--suite`): tuning sets, not measurements."""
