"""Filters over a stream of tasks, as ``prodigy.components.filters``: drop duplicates, or tasks already answered.

Each is lazy: it reads one task, decides, and yields it or not. Tasks without hashes get them
first (``set_hashes``), so a filter works on any stream.
"""

from __future__ import annotations

from typing import Iterable, Iterator

from ..hashing import set_hashes
from ..types import Task


def filter_duplicates(stream: Iterable[Task], by_input: bool = False, by_task: bool = True) -> Iterator[Task]:
    """Yield each task once: skip a task whose input hash (``by_input``) or task hash (``by_task``) came before."""
    inputs: set[int] = set()
    tasks: set[int] = set()
    for task in stream:
        task = set_hashes(task)
        if (by_input and task["_input_hash"] in inputs) or (by_task and task["_task_hash"] in tasks):
            continue
        inputs.add(task["_input_hash"])
        tasks.add(task["_task_hash"])
        yield task


def filter_inputs(stream: Iterable[Task], input_hashes: Iterable[int]) -> Iterator[Task]:
    """Skip the tasks whose ``_input_hash`` is in ``input_hashes`` (say ``db.get_input_hashes(dataset)``)."""
    skip = set(input_hashes)
    return (task for task in map(set_hashes, stream) if task["_input_hash"] not in skip)


def filter_tasks(stream: Iterable[Task], task_hashes: Iterable[int]) -> Iterator[Task]:
    """Skip the tasks whose ``_task_hash`` is in ``task_hashes`` (say ``db.get_task_hashes(dataset)``)."""
    skip = set(task_hashes)
    return (task for task in map(set_hashes, stream) if task["_task_hash"] not in skip)
