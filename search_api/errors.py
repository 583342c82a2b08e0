"""Named request errors; `app.py` maps them (and every other failure) to HTTP responses."""

from __future__ import annotations

from indexer.errors import SoveiError


class BadParameter(SoveiError):
    """A request parameter is invalid; the message names it and the valid values."""

    def __init__(self, name: str, message: str, nb: str | None = None):
        self.name = name
        self.nb = nb
        """The same message in bokmål, for the search page (the JSON API answers in English)."""
        super().__init__(f"Parameter '{name}' {message}")


class NotFound(SoveiError):
    """A document, theme or file that the index does not have."""
