"""Stable input and task hashes over canonical JSON (the same on every run and machine)."""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Any, Iterable, cast

from .types import Task

INPUT_KEYS = ("text", "image", "html", "input")
TASK_KEYS = ("spans", "label", "options", "accept")


def hash_record(obj: Any) -> int:
    """A signed 32-bit hash of ``obj`` as canonical JSON (sorted keys, no spaces)."""
    data = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.blake2b(data.encode("utf8"), digest_size=4).digest()
    return int.from_bytes(digest, "big", signed=True)


def _spans_key(spans: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    # Only what defines the question: offsets and label, not scores or cached text.
    keys = ("start", "end", "label")
    picked = [{k: s.get(k) for k in keys} for s in spans]
    if len(picked) < 2:  # the common one-span question: no sort (it was ~10% of NER scoring time)
        return picked
    return sorted(picked, key=lambda s: json.dumps(s, sort_keys=True))


def set_hashes(
    task: Task,
    input_keys: Iterable[str] = INPUT_KEYS,
    task_keys: Iterable[str] = TASK_KEYS,
    overwrite: bool = False,
) -> Task:
    """Add ``_input_hash`` (what is annotated) and ``_task_hash`` (the question asked of it)."""
    if overwrite or "_input_hash" not in task:
        values = {k: task[k] for k in input_keys if k in task}  # type: ignore[literal-required]
        task["_input_hash"] = hash_record(values)
    if overwrite or "_task_hash" not in task:
        values = {}
        for key in task_keys:
            if key in task:
                value = task[key]  # type: ignore[literal-required]
                values[key] = _spans_key(value) if key == "spans" else value
        task["_task_hash"] = hash_record([task["_input_hash"], values])
    return cast(Task, task)


def _digest(values: dict[str, Any], task_hash: int | None = None) -> str:
    if values.keys() == {"text"} and isinstance(values["text"], str):
        return _text_digest(values["text"], task_hash)
    data = json.dumps([values, task_hash], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.blake2b(data.encode("utf8", "surrogatepass"), digest_size=16).hexdigest()


@functools.lru_cache(maxsize=16_384)
def _text_digest(text: str, task_hash: int | None) -> str:
    # The common case without json.dumps (7 µs instead of 25); the leading NUL keeps it apart
    # from the canonical JSON of the general case. Remembered: the controller and the router
    # ask for a question's key 5-7 times between its scoring and its answer.
    data = f"\0{text}\0{task_hash}"
    return hashlib.blake2b(data.encode("utf8", "surrogatepass"), digest_size=16).hexdigest()


def input_key(task: Task) -> str:
    """A 128-bit identity of what is annotated (``_input_hash`` is Prodigy's 32 bits, which collide:
    about 116 pairs among a million texts)."""
    return _digest({k: task[k] for k in INPUT_KEYS if k in task})  # type: ignore[literal-required]


def task_key(task: Task) -> str:
    """A 128-bit identity of the question: what is annotated and the question's ``_task_hash``.

    The same for a question and its answer (a manual answer changes the spans, not the hash), and
    different for two texts whose 32-bit hashes collide. Call after ``set_hashes``.
    """
    return _digest({k: task[k] for k in INPUT_KEYS if k in task}, task["_task_hash"])  # type: ignore[literal-required]
