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


def warn_new_labels(labels: list[str], known: list[str], model: str) -> None:
    """One warning line for labels a trained component lacks: a misspelt PERSN would silently
    become a new label learnt from nothing."""
    import sys

    from .terminal import printable

    new = [label for label in labels if label not in known]
    if not new or not known:
        return
    hints = " ".join(did_you_mean(label, known) for label in new if difflib_close(label, known))
    print(printable(f"⚠ {', '.join(new)} {'is' if len(new) == 1 else 'are'} not among the labels of {model} "
                    f"({', '.join(known)}): added as new, untrained. {hints}".strip()), file=sys.stderr, flush=True)


def difflib_close(name: str, choices: list[str]) -> bool:
    """Whether ``choices`` has a close match for ``name`` (as ``did_you_mean`` suggests it)."""
    import difflib

    return bool(difflib.get_close_matches(name, choices, n=1, cutoff=0.5))
