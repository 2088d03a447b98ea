"""Sorters: turn a scored stream of (score, task) into the stream of tasks to ask, lazily.

Two algorithms, picked by name so a recipe or a simulation can pass either through:

- ``"ema"``: a filter. It keeps an exponential moving average of the priority and yields
  a task when its priority is at least the average minus ``slack``. Skipped tasks pull
  the average down, so a stream never stalls; ``max_skip`` bounds the worst case.
  Nothing is buffered: the first question is asked as soon as one good task is scored.
- ``"window"``: a reorderer. It keeps the next ``window`` scored tasks in a heap and
  yields the best one each time it reads another; at the end of the stream it empties
  the heap best-first. Nothing is dropped from a finite stream.

Both yield any task with ``meta.pattern`` at once: pattern matches are how new labels
get their first examples, and their model score is often near 0, so they must not be
filtered or left at the bottom of a heap.
"""

from __future__ import annotations

import heapq
import random
from itertools import count
from typing import Any, Callable, Iterable, Iterator

from ..errors import UserError
from ..types import Task

Priority = Callable[[float], float]


def uncertainty(score: float) -> float:
    """1 at p = 0.5, 0 at p = 0 or 1."""
    return 1.0 - abs(2.0 * score - 1.0)


def is_pattern(task: Task) -> bool:
    """Whether the task was proposed by a pattern (``meta.pattern`` set, even to 0)."""
    return task.get("meta", {}).get("pattern") is not None


def ema_filter(
    scored: Iterable[tuple[float, Task]],
    priority: Priority,
    alpha: float = 0.1,
    slack: float = 0.02,
    max_skip: int = 100,
) -> Iterator[Task]:
    """Yield tasks whose priority is at least the moving average minus ``slack``.

    The average includes the current task, with weight ``alpha``; after ``max_skip``
    tasks in a row are skipped the next one is yielded regardless.
    """
    average: float | None = None
    skipped = 0
    for score, task in scored:
        if is_pattern(task):
            yield task
            continue
        value = priority(score)
        average = value if average is None else average + alpha * (value - average)
        if value >= average - slack or skipped >= max_skip:
            skipped = 0
            yield task
        else:
            skipped += 1


def window_sort(
    scored: Iterable[tuple[float, Task]],
    priority: Priority,
    window: int = 64,
    explore: float = 0.0,
    seed: int = 0,
) -> Iterator[Task]:
    """Yield the highest-priority task among the next ``window`` scored ones, each time.

    With ``explore`` > 0, that share of the tasks is picked at random from the window
    instead, so candidates the model is sure about (often wrongly) are asked too.
    """
    heap: list[tuple[float, int, Task]] = []
    order = count()  # ties keep stream order, and tasks are never compared
    rng = random.Random(seed)

    def pop() -> Task:
        if explore and len(heap) > 1 and rng.random() < explore:
            i = rng.randrange(len(heap))
            heap[i], heap[-1] = heap[-1], heap[i]
            item = heap.pop()
            heapq.heapify(heap)
            return item[2]
        return heapq.heappop(heap)[2]

    for score, task in scored:
        if is_pattern(task):
            yield task
            continue
        heapq.heappush(heap, (-priority(score), next(order), task))
        if len(heap) >= window:
            yield pop()
    while heap:
        yield pop()


ALGORITHMS: dict[str, Callable[..., Iterator[Task]]] = {"ema": ema_filter, "window": window_sort}
OPTIONS: dict[str, tuple[str, ...]] = {"ema": ("alpha", "slack", "max_skip"), "window": ("window", "explore", "seed")}


def sort_by(scored: Iterable[tuple[float, Task]], priority: Priority, algorithm: str = "ema", **kwargs: Any) -> Iterator[Task]:
    """Run the named algorithm with ``priority``.

    ``kwargs`` may hold the options of every algorithm (alpha, slack, max_skip, window);
    each algorithm takes its own and ignores the others', so one set of settings can be
    passed whichever algorithm is picked.
    """
    if algorithm not in ALGORITHMS:
        raise UserError(f"unknown sorter algorithm '{algorithm}'. Available: {', '.join(ALGORITHMS)}.")
    known = {name for names in OPTIONS.values() for name in names}
    unknown = set(kwargs) - known
    if unknown:
        raise UserError(f"unknown sorter option(s) {', '.join(sorted(unknown))}. Available: {', '.join(sorted(known))}.")
    options = {k: v for k, v in kwargs.items() if k in OPTIONS[algorithm]}
    return ALGORITHMS[algorithm](scored, priority, **options)


def prefer_uncertain(scored: Iterable[tuple[float, Task]], algorithm: str = "ema", **kwargs: Any) -> Iterator[Task]:
    """Ask about scores near 0.5 first (priority ``1 - |2p - 1|``)."""
    return sort_by(scored, uncertainty, algorithm, **kwargs)


def prefer_high_scores(scored: Iterable[tuple[float, Task]], algorithm: str = "ema", **kwargs: Any) -> Iterator[Task]:
    """Ask about the highest scores first (priority ``p``)."""
    return sort_by(scored, lambda p: p, algorithm, **kwargs)


def prefer_low_scores(scored: Iterable[tuple[float, Task]], algorithm: str = "ema", **kwargs: Any) -> Iterator[Task]:
    """Ask about the lowest scores first (priority ``1 - p``)."""
    return sort_by(scored, lambda p: 1.0 - p, algorithm, **kwargs)
