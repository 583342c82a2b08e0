"""What an index folder is. Read by the service too; the one place that knows the layout."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .errors import IndexMismatchError, IndexMissingError

FORMAT_VERSION = 6  # 2: vectors centred by language; 3: the editors' questions and their vectors; 4: law chapters;
# 5: the language means estimated from the bank's own writing, not the law texts; 6: vectors in fp32 on every CPU
# (a format-5 index built where `precision="auto"` chose bf16 is rebuilt, not served with fp32 questions)
MANIFEST = "manifest.json"
TANTIVY_DIR = "tantivy"
VECTORS = "vectors.faiss"
CHUNKS = "chunks.jsonl"
DOCUMENTS = "documents.json"
THEMES = "themes.json"
ACUTE = "acute.json"
QUESTIONS = "questions.jsonl"
QUESTION_VECTORS = "questions.faiss"


@dataclass
class Manifest:
    format_version: int
    created: str
    model_id: str
    model_setting: str
    dimension: int
    analyzer: str
    chunking: dict
    corpus_hash: str
    corpus_dirs: list[str]
    counts: dict
    versions: dict
    skipped: list = field(default_factory=list)
    vector_centering: dict = field(default_factory=dict)
    laws: dict = field(default_factory=dict)
    """The law folders read, the laws indexed and the law files left out as not in force."""

    def write(self, folder: Path) -> None:
        (folder / MANIFEST).write_text(json.dumps(asdict(self), ensure_ascii=False, indent=2), encoding="utf-8")

    @classmethod
    def read(cls, folder: Path) -> "Manifest":
        path = folder / MANIFEST
        if not path.exists():
            raise IndexMissingError(f"No index at {folder} (no {MANIFEST}). Build it with `make index`.")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(**data)
        except (json.JSONDecodeError, TypeError) as exc:
            raise IndexMismatchError(f"{path} is not a manifest this version understands ({exc}). "
                                     "Rebuild with `make index`.") from None

    def check_compatible(self, model_id: str, analyzer: str) -> None:
        if self.format_version != FORMAT_VERSION:
            raise IndexMismatchError(f"Index format {self.format_version} but this code reads {FORMAT_VERSION}. "
                                     "Rebuild with `make index`.")
        if self.model_id != model_id:
            raise IndexMismatchError(f"The index was built with model {self.model_id!r} but SOVEI_MODEL gives "
                                     f"{model_id!r}. Rebuild with `make index` (same SOVEI_MODEL), or set "
                                     f"SOVEI_MODEL={self.model_setting}.")
        if self.analyzer != analyzer:
            raise IndexMismatchError(f"The index uses analyzer {self.analyzer!r}, this code {analyzer!r}. "
                                     "Rebuild with `make index`.")
