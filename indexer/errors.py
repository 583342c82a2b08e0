"""Named errors of the whole project: the indexer, the service and the evaluations.

Every message names the file, field, parameter or setting and says how to fix it. The service maps
these to HTTP responses in one place (`search_api/app.py`).
"""

from __future__ import annotations


class SoveiError(Exception):
    """Base class for errors we expect and explain."""


# --- settings and models ---------------------------------------------------------------------------

class ConfigError(SoveiError):
    """A setting or environment variable is invalid."""


class ModelError(SoveiError):
    """The embedding model cannot be loaded."""


class DictionaryMissing(SoveiError):
    """The Hunspell dictionaries for «mente du» are not where they should be."""


# --- the corpus ----------------------------------------------------------------------------------

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


# --- the index -----------------------------------------------------------------------------------

class IndexMissingError(SoveiError):
    """No index has been built at the configured path."""


class IndexMismatchError(SoveiError):
    """The index on disk was built with other settings than the service uses."""


class ArtifactError(SoveiError):
    """A published index artifact is corrupt, truncated, unsafe or not for this code and model."""


# --- requests (the service) ----------------------------------------------------------------------

class BadParameter(SoveiError):
    """A request parameter is invalid; the message names it and the valid values."""

    def __init__(self, name: str, message: str, nb: str | None = None):
        self.name = name
        self.nb = nb
        """The same message in bokmål, for the search page (the JSON API answers in English)."""
        super().__init__(f"Parameter '{name}' {message}")


class NotFound(SoveiError):
    """A document, theme or file that the index does not have."""


# --- serving replicas ------------------------------------------------------------------------------

class ReplicaError(SoveiError):
    """`make serve-replicas` cannot start or stop: nginx missing, a port in use, a replica that does not come up."""


# --- evaluations ---------------------------------------------------------------------------------

class SuiteMissing(SoveiError):
    """A benchmark's files are not on this machine (or not readable)."""
