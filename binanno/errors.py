"""Errors a user can cause. The CLI prints their one line and exits 1, with no traceback."""

from __future__ import annotations


class UserError(Exception):
    """A mistake the user can fix: the message says what happened and what to do next."""

    def __init__(self, message: str, *, path: object = None, line: int | None = None) -> None:
        where = f"{path}:{line}: " if path is not None and line is not None else f"{path}: " if path else ""
        super().__init__(where + message)


class InvalidInput(UserError):
    """One bad record in an input source (``--skip-invalid`` skips these with a count)."""


def did_you_mean(name: str, choices: list[str]) -> str:
    """' Did you mean: a, b?' for the closest of ``choices``, else the full list."""
    import difflib

    close = difflib.get_close_matches(name, choices, n=3, cutoff=0.5)
    if close:
        return f"Did you mean: {', '.join(close)}?"
    return f"Available: {', '.join(sorted(choices))}." if choices else ""
