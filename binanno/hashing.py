"""Stable input and task hashes over canonical JSON (the same on every run and machine)."""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Any, Iterable, cast

from .types import MEDIA_KEYS, STAND_IN_KEYS, Task

INPUT_KEYS = ("text", *MEDIA_KEYS, "input")
TASK_KEYS = ("spans", "label", "options", "accept")
# The input of a record without text or media: a pattern, a question-answering task, a comparison.
FALLBACK_INPUT_KEYS = STAND_IN_KEYS


def hash_record(obj: Any) -> int:
    """A signed 32-bit hash of ``obj`` as canonical JSON (sorted keys, no spaces)."""
    data = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.blake2b(data.encode("utf8"), digest_size=4).digest()
    return int.from_bytes(digest, "big", signed=True)


def input_values(task: Task, keys: Iterable[str] = INPUT_KEYS) -> dict[str, Any]:
    """What is annotated: the task's input keys; for a record with none of them, what it holds in their
    place (a pattern, a question with its context). Never an answer's own fields (answer, accept, a
    typed text), so that a question and its answer keep one key. A record with none of those either
    (fields a recipe builds the card from, as Prodigy's loaders allow) is its own input: every field
    but the hashes and the answer."""
    values = {k: task[k] for k in keys if k in task}  # type: ignore[literal-required]
    values = values or {k: task[k] for k in FALLBACK_INPUT_KEYS if k in task}  # type: ignore[literal-required]
    return values or {k: v for k, v in task.items() if not k.startswith("_") and k != "answer"}


def input_hash(task: Task) -> int:
    """The task's ``_input_hash``, or where it has none the one ``set_hashes`` would give it: the one
    rule for every place that keys something by input (a record without text included)."""
    if "_input_hash" in task:
        return task["_input_hash"]
    return hash_record(input_values(task))


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
    ignore: Iterable[str] = (),
) -> Task:
    """Add ``_input_hash`` (what is annotated) and ``_task_hash`` (the question asked of it).

    ``ignore`` (Prodigy's argument) names keys left out of both hashes even where listed.
    """
    if ignore:
        input_keys = [k for k in input_keys if k not in ignore]
        task_keys = [k for k in task_keys if k not in ignore]
    if overwrite or "_input_hash" not in task:
        task["_input_hash"] = hash_record(input_values(task, input_keys))
    if overwrite or "_task_hash" not in task:
        task["_task_hash"] = _task_hash(task, task_keys)
    return cast(Task, task)


def _task_hash(task: Task, task_keys: Iterable[str] = TASK_KEYS) -> int:
    values = {}
    for key in task_keys:
        if key in task:
            value = task[key]  # type: ignore[literal-required]
            values[key] = _spans_key(value) if key == "spans" else value
    return hash_record([task["_input_hash"], values])


def settle_hashes(task: Task) -> Task:
    """The hashes of a task as the recipe finally asks it (the controller calls this on every task).

    A loader hashes a record before the recipe adds its question: a label or options added after
    loading would leave the hash of the bare input, and a second label on the same data would count
    as answered. So a task hash that still equals the hash of no question at all, on a task that now
    asks one, is set again from the final task. The input hash stays, and so does a task hash the
    recipe set itself (``set_hashes(task, overwrite=True)`` after its changes, or its own keys).
    """
    task = set_hashes(task)
    if any(k in task for k in TASK_KEYS) and task["_task_hash"] == hash_record([task["_input_hash"], {}]):
        task["_task_hash"] = _task_hash(task)
    return task


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
    return _digest(input_values(task))


def task_key(task: Task) -> str:
    """A 128-bit identity of the question: what is annotated and the question's ``_task_hash``.

    The same for a question and its answer (a manual answer changes the spans, not the hash), and
    different for two texts whose 32-bit hashes collide. Call after ``set_hashes``.
    """
    return _digest(input_values(task), task["_task_hash"])
