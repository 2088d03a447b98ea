"""binanno: a Prodigy-style annotation server built on binary decisions.

The public API a recipe uses (the built-in recipes use nothing else).
"""

from __future__ import annotations

__version__ = "0.1.0"

from .components.loaders import get_stream
from .core import Arg, command, recipe
from .errors import UserError
from .hashing import set_hashes


def split_string(value: str) -> list[str]:
    """'A, B,C' -> ['A', 'B', 'C'] (a converter for comma-separated CLI options)."""
    return [part.strip() for part in value.split(",") if part.strip()]


def connect(db: str | None = None) -> Database:
    """The answer store at ``db``, or where the settings point (``--db``, BINANNO_DB, BINANNO_HOME)."""
    import os

    from .components.db import Database
    from .config import home

    return Database(db or os.environ.get("BINANNO_DB") or home() / "binanno.db")


from .components.db import Database  # noqa: E402

__all__ = ["Arg", "Database", "UserError", "__version__", "command", "connect", "get_stream", "recipe",
           "set_hashes", "split_string"]
