"""Named errors. Every message names the file, field or parameter and says how to fix it."""

from __future__ import annotations


class SoveiError(Exception):
    """Base class for errors we expect and explain."""


class ConfigError(SoveiError):
    """A setting or environment variable is invalid."""


class DocumentError(SoveiError):
    """A corpus file cannot be indexed (bad front matter, unreadable PDF, empty text)."""

    def __init__(self, path, field: str | None, problem: str):
        self.path = str(path)
        self.field = field
        self.problem = problem
        where = f"{self.path}: field '{field}'" if field else self.path
        super().__init__(f"{where}: {problem}")


class CorpusError(SoveiError):
    """The corpus as a whole is invalid (several documents failed, duplicate ids)."""

    def __init__(self, problems: list[DocumentError]):
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{len(problems)} problem(s) in the corpus:\n{lines}")


class IndexMissingError(SoveiError):
    """No index has been built at the configured path."""


class IndexMismatchError(SoveiError):
    """The index on disk was built with other settings than the service uses."""


class ModelError(SoveiError):
    """The embedding model cannot be loaded."""
