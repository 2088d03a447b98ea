"""The task format an answer must have before any answer of its batch is stored.

Every field that ``stats``, ``train`` and ``db-out`` read is checked here, so nothing stored can
break them later: a bad answer is refused with the field and the reason, and the whole batch with it.
"""

from __future__ import annotations

import math
from typing import Any

from .types import ANSWERS, CONTENT_KEYS

# Hashes are stored in 64-bit columns; timestamps are seconds, well inside a double's exact range.
INT64 = 2**63
MAX_TIMESTAMP = 2**53


def has_versions(task: dict[str, Any]) -> bool:
    """Whether the task is a ``compare`` / ``diff`` one: its ``accept`` and ``reject`` are the two versions (objects)."""
    return isinstance(task.get("accept"), dict) and isinstance(task.get("reject"), dict)


def has_content(task: dict[str, Any]) -> bool:
    """Whether a task without text has something in its place to show or read (``types.CONTENT_KEYS``,
    or the two versions of a ``compare`` / ``diff`` task)."""
    if has_versions(task):
        return True
    return any(task.get(k) not in (None, "", [], {}) for k in CONTENT_KEYS)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def unstorable(value: Any) -> str | None:
    """``"path: why"`` for the first NaN, Infinity or lone surrogate inside ``value``, else None.

    JSON has no NaN, and a lone surrogate (``"\\ud800"``) can't be written as UTF-8.
    """
    todo: list[tuple[str, Any]] = [("", value)]
    while todo:  # a loop, not recursion: a deeply nested answer must not overflow the stack
        path, item = todo.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return f"{path or 'value'}: NaN and Infinity are not valid JSON numbers"
        if isinstance(item, str) and not item.isascii() and not _encodable(item):
            return f"{path or 'value'}: a lone surrogate (\\ud800-\\udfff) is not text"
        if isinstance(item, dict):
            for k, v in item.items():
                if not _encodable(str(k)):
                    return f"{path or 'value'}: a key holds a lone surrogate"
                todo.append((f"{path}.{k}" if path else str(k), v))
        elif isinstance(item, list):
            todo.extend((f"{path}[{i}]", v) for i, v in enumerate(item))
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def span_error(span: Any, text: str) -> str | None:
    """Why ``span`` is not a span of ``text``, else None: the one rule for answers and input files
    (whole-number offsets, ``0 <= start < end <= len(text)``, a string label)."""
    if not isinstance(span, dict):
        return "each span must be an object with start, end and label"
    start, end = span.get("start"), span.get("end")
    if not (isinstance(start, int) and isinstance(end, int) and _is_int(start) and _is_int(end)
            and 0 <= start < end <= len(text)):
        return f"span [{str(start)[:20]}, {str(end)[:20]}) is outside the text (length {len(text)}): fix its offsets"
    if "label" in span and not isinstance(span["label"], str):
        return f"label must be a string, got {type(span['label']).__name__}"
    for key in ("token_start", "token_end"):
        if key in span and not _is_int(span[key]):
            return f"{key} must be a whole number"
    return None


def answer_error(task: Any) -> str | None:
    """Why ``task`` is not a valid answer, as ``"field: why"``; None when it is one."""
    if not isinstance(task, dict):
        return f"answer: expected an object, got {type(task).__name__}"
    if task.get("answer") not in ANSWERS:
        return f"answer: must be one of {', '.join(ANSWERS)}, got {task.get('answer')!r}"[:200]
    text = task.get("text")
    if not isinstance(text, str) and (text is not None or not has_content(task)):
        return "text: every answer needs the text as a string (or its image, audio, html, ...)"
    bad = unstorable(task)
    if bad:
        return bad
    for key in ("_input_hash", "_task_hash"):
        if key in task and not (_is_int(task[key]) and -INT64 <= task[key] < INT64):
            return f"{key}: must be a 64-bit whole number (leave it out to have it computed)"
    if "_timestamp" in task and not (_is_number(task["_timestamp"]) and 0 <= task["_timestamp"] < MAX_TIMESTAMP):
        return "_timestamp: must be a number of seconds since 1970"
    spans = task.get("spans", [])
    if not isinstance(spans, list):
        return "spans: must be a list of spans"
    for i, span in enumerate(spans):
        error = span_error(span, text) if isinstance(text, str) else None  # an image's boxes have no offsets
        if error:
            return f"spans[{i}]: {error}"
    for key in ("label", "_session_id", "_view_id"):
        if key in task and not isinstance(task[key], str):
            return f"{key}: must be a string"
    versions = has_versions(task)
    for key, kind in (("accept", list), ("options", list), ("tokens", list), ("meta", dict)):
        if key in task and not isinstance(task[key], kind) and not (key == "accept" and versions):
            return f"{key}: must be a{'n object' if kind is dict else ' list'}"
    if not versions and not all(isinstance(a, (str, int)) and not isinstance(a, bool) for a in task.get("accept", [])):
        return "accept: must list option ids (strings or whole numbers)"
    if not all(isinstance(o, dict) and "id" in o for o in task.get("options", [])):
        return "options: each option must be an object with an id"
    if not all(isinstance(t, dict) for t in task.get("tokens", [])):
        return "tokens: each token must be an object"
    return None


def refused_answers(answers: list[Any]) -> list[dict[str, Any]]:
    """Every invalid answer of a batch as ``{index, _task_hash, error}`` (empty when all are valid)."""
    refused = []
    for i, task in enumerate(answers):
        error = answer_error(task)
        if error:
            task_hash = task.get("_task_hash") if isinstance(task, dict) else None
            refused.append({"index": i, "_task_hash": task_hash if _is_int(task_hash) else None, "error": error[:300]})
    return refused
