"""The --label option: comma-separated labels, or a file of them (as Prodigy takes both)."""

from __future__ import annotations

import json
from pathlib import Path

from .errors import UserError

LABEL_FILE_SUFFIXES = (".txt", ".json", ".jsonl", ".labels")


def get_labels(value: str) -> list[str]:
    """'A,B' -> ['A', 'B']; a path to a file -> its labels (one a line, or a JSON list).

    A value that names a label file that isn't there is a UserError, not a label called
    'labels.txt'.
    """
    path = Path(value).expanduser()
    if path.is_file():
        text = path.read_text(encoding="utf8")
        if path.suffix == ".json":
            try:
                labels = json.loads(text)
            except json.JSONDecodeError as e:
                raise UserError(f"invalid JSON ({e.msg}): a label file is a JSON list or one label a line", path=path) from None
            if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
                raise UserError("expected a JSON list of label strings", path=path)
        else:
            labels = [line.strip() for line in text.splitlines()]
        found = [label for label in labels if label and not label.startswith("#")]
        if not found:
            raise UserError("the label file holds no labels: one label a line", path=path)
        return found
    if path.suffix.lower() in LABEL_FILE_SUFFIXES or "/" in value:
        raise UserError(f"Label file '{value}' not found: check the path, or pass the labels themselves (--label A,B)")
    return [part.strip() for part in value.split(",") if part.strip()]


def require_labels(labels: list[str] | None, example: str = "PERSON,ORG") -> list[str]:
    """``labels``, or a UserError saying how to pass them."""
    if not labels:
        raise UserError(f"No labels given: pass --label {example} (or a file with one label a line)")
    return labels
