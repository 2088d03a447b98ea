"""How many questions a source holds, where that is cheap to know: the page's "answered / total"."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable

from ..errors import UserError
from .loaders import READERS, guess_loader


def count_records(source: str | Path, loader: str | None = None) -> int | None:
    """The records in a file, counted once without keeping any; None for stdin (its length is unknown).

    JSONL and plain text count their non-blank lines (a malformed or repeated line counts too, so
    the count can be a little high); CSV and JSON are parsed, since a record may span lines.
    """
    if str(source) == "-" or not Path(source).is_file():
        return None
    loader = loader or guess_loader(source)
    if loader in ("jsonl", "txt"):
        with Path(source).open("rb") as f:
            return sum(1 for line in f if line.strip())
    if loader not in READERS:
        return None
    try:
        with Path(source).open("rb") as f:  # the readers take bytes and decode line by line
            return sum(1 for _ in READERS[loader](f, str(source)))
    except (UserError, UnicodeDecodeError):
        return None  # the stream itself reports what is wrong with the file


class Total:
    """A recipe's ``total`` component: ``count()`` runs once, when first asked, and is remembered.

    Counting waits for the first request rather than delaying the server's start.
    """

    def __init__(self, count: Callable[[], int | None]) -> None:
        self._count = count
        self._lock = threading.Lock()
        self._done = False
        self._value: int | None = None

    def __call__(self) -> int | None:
        with self._lock:
            if not self._done:
                self._value, self._done = self._count(), True
            return self._value
