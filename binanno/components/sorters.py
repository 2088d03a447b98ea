"""Sorters: turn a scored stream of (score, task) into the stream of tasks to ask, lazily.

Four algorithms, picked by name so a recipe or a simulation can pass either through:

- ``"ema"``: a filter. It keeps an exponential moving average of the priority and yields
  a task when its priority is at least the average minus ``slack``. Skipped tasks pull
  the average down, so a stream never stalls; ``max_skip`` bounds the worst case.
  Nothing is buffered: the first question is asked as soon as one good task is scored.
- ``"window"``: a reorderer. It keeps the next ``window`` scored tasks in a heap and
  yields the best one each time it reads another; at the end of the stream it empties
  the heap best-first. Nothing is dropped from a finite stream.
- ``"probability"``: Prodigy's sampler: each task is asked with probability its priority
  (at least ``min_prob``), trusting the scores as they are.
- ``"pool"``: the window, ``pool_size`` questions wide (filled lazily) and scored again as a
  whole after every update: pool-based active learning over a bounded sliding pool.

Both yield any task with ``meta.pattern`` at once: pattern matches are how new labels
get their first examples, and their model score is often near 0, so they must not be
filtered or left at the bottom of a heap.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterator
from itertools import count
from typing import Any, Callable, Iterable

from ..errors import UserError
from ..types import Task

Priority = Callable[[float], float]


def uncertainty(score: float) -> float:
    """1 at p = 0.5, 0 at p = 0 or 1."""
    return 1.0 - abs(2.0 * score - 1.0)


def is_pattern(task: Task) -> bool:
    """Whether the task was proposed by a pattern (``meta.pattern`` set, even to 0)."""
    return task.get("meta", {}).get("pattern") is not None


Rescore = Callable[[list[Task]], "list[tuple[float, Task]] | None"]


class _Sorter(Iterator[Task]):
    """What both sorters share: a lazy iterator that can take unasked questions back.

    The controller gives back the questions it had scored ahead but not sent once the model
    has learnt from new answers (``give_back``); with ``rescore`` (binanno.components.rescore)
    the sorter scores them, and what it holds, again under the new weights before it picks,
    so what is asked next follows the latest model rather than the one of 64 questions ago.
    """

    def __init__(self, scored: Iterable[tuple[float, Task]], priority: Priority, rescore: Rescore | None) -> None:
        self._scored = iter(scored)
        self.priority = priority
        self.rescore = rescore
        self._scores: dict[int, float] = {}  # the last score of each question handed out
        self._done = False

    def __iter__(self) -> _Sorter:
        return self

    def __next__(self) -> Task:
        raise NotImplementedError

    def _pull(self) -> tuple[float, Task] | None:
        if self._done:
            return None
        try:
            return next(self._scored)
        except StopIteration:
            self._done = True
            return None

    def _out(self, score: float, task: Task) -> Task:
        key = task.get("_task_hash")
        if key is not None:
            self._scores[key] = score
            if len(self._scores) > 10000:
                self._scores.pop(next(iter(self._scores)))
        return task

    def _score_of(self, task: Task) -> float:
        return self._scores.pop(task.get("_task_hash", -1), task.get("meta", {}).get("score", 0.5))

    def _given_back(self, tasks: list[Task]) -> list[tuple[float, Task]]:
        """(score, task) for questions given back: their last scores while the model is newer than what
        the sorter holds (it all gets scored again before the next pick), else scored now: then they were
        held since an older model than the one that ranked the rest (the controller's kept batch)."""
        back = [(self._score_of(t), t) for t in tasks]
        score = getattr(self.rescore, "score", None)
        if back and score is not None and not getattr(self.rescore, "stale", True):
            return score([t for _, t in back])  # type: ignore[no-any-return]
        return back


class _Replaying(_Sorter):
    """A sorter that reads one task at a time (the filter, the sampler): what is given back is read
    again first, before the source, rescored."""

    def __init__(self, scored: Iterable[tuple[float, Task]], priority: Priority, rescore: Rescore | None) -> None:
        super().__init__(scored, priority, rescore)
        self._back: list[tuple[float, Task]] = []

    def give_back(self, tasks: list[Task]) -> None:
        """Questions handed out but never asked: they are read again first, rescored."""
        back = self._given_back(tasks)
        fresh = self.rescore([t for _, t in back]) if self.rescore is not None and back else None
        self._back = (fresh if fresh is not None else back) + self._back

    def _next_item(self) -> tuple[float, Task] | None:
        return self._back.pop(0) if self._back else self._pull()


class EmaFilter(_Replaying):
    """Yield tasks whose priority is at least the moving average minus ``slack``.

    The average includes the current task, with weight ``alpha``; after ``max_skip``
    tasks in a row are skipped the next one is yielded regardless.
    """

    def __init__(self, scored: Iterable[tuple[float, Task]], priority: Priority, alpha: float = 0.1, slack: float = 0.02,
                 max_skip: int = 100, rescore: Rescore | None = None) -> None:
        super().__init__(scored, priority, rescore)
        self.alpha, self.slack, self.max_skip = alpha, slack, max_skip
        self.average: float | None = None
        self.skipped = 0

    def __next__(self) -> Task:
        while True:
            item = self._next_item()
            if item is None:
                raise StopIteration
            score, task = item
            if is_pattern(task):
                return self._out(score, task)
            value = self.priority(score)
            self.average = value if self.average is None else self.average + self.alpha * (value - self.average)
            if value >= self.average - self.slack or self.skipped >= self.max_skip:
                self.skipped = 0
                return self._out(score, task)
            self.skipped += 1


class WindowSort(_Sorter):
    """Yield the highest-priority task among the next ``window`` scored ones, each time.

    With ``explore`` > 0, that share of the tasks is picked at random from the window
    instead, so candidates the model is sure about (often wrongly) are asked too.
    """

    def __init__(self, scored: Iterable[tuple[float, Task]], priority: Priority, window: int = 64, explore: float = 0.0,
                 seed: int = 0, rescore: Rescore | None = None) -> None:
        super().__init__(scored, priority, rescore)
        self.window, self.explore = window, explore
        self._heap: list[tuple[float, int, float, Task]] = []
        self._order = count()  # ties keep stream order, and tasks are never compared
        self._rng = random.Random(seed)
        self._patterns: list[tuple[float, Task]] = []

    def _push(self, score: float, task: Task) -> None:
        heapq.heappush(self._heap, (-self.priority(score), next(self._order), score, task))

    def give_back(self, tasks: list[Task]) -> None:
        """Questions handed out but never asked: back into the window, to be ranked again."""
        for score, task in self._given_back(tasks):
            if is_pattern(task):
                self._patterns.append((score, task))
            else:
                self._push(score, task)

    def _refresh(self) -> None:
        # Ask whether the model changed before sorting what is held: a pool holds thousands.
        if self.rescore is None or not self._heap or not getattr(self.rescore, "stale", True):
            return
        fresh = self.rescore([item[3] for item in sorted(self._heap)])
        if fresh is not None:
            self._heap = [(-self.priority(score), next(self._order), score, task) for score, task in fresh]
            heapq.heapify(self._heap)

    def __next__(self) -> Task:
        if self._patterns:
            return self._out(*self._patterns.pop(0))
        while len(self._heap) < self.window:
            pulled = self._pull()
            if pulled is None:
                break
            if is_pattern(pulled[1]):
                return self._out(*pulled)
            self._push(*pulled)
        if not self._heap:
            raise StopIteration
        self._refresh()
        if self.explore and len(self._heap) > 1 and self._rng.random() < self.explore:
            i = self._rng.randrange(len(self._heap))
            self._heap[i], self._heap[-1] = self._heap[-1], self._heap[i]
            _, _, score, task = self._heap.pop()
            heapq.heapify(self._heap)
        else:
            _, _, score, task = heapq.heappop(self._heap)
        return self._out(score, task)


class PoolSort(WindowSort):
    """:class:`WindowSort` over a large pool: rank up to ``pool_size`` scored questions at once.

    After every update the whole pool is scored again (with ``rescore``) and the most
    uncertain question in it is asked, as pool-based active learning does, instead of the
    best of the next 64. The pool is filled lazily, ``first`` questions at the start and
    twice as many each time after, but never more than ``grow`` new ones for one question (the
    source's texts are scored as they are read: 20,000 at once held the worker for seconds,
    and a fast annotator waited for it), so the first question comes at once whatever the
    source's size; once full it is a sliding window: each question asked makes room for the
    next one from the source, so memory stays flat on a source of any length.
    """

    def __init__(self, scored: Iterable[tuple[float, Task]], priority: Priority, pool_size: int = 20000, first: int = 64,
                 explore: float = 0.0, seed: int = 0, rescore: Rescore | None = None, grow: int = 1024) -> None:
        if pool_size < 1:
            raise UserError(f"pool_size must be at least 1, not {pool_size}")
        super().__init__(scored, priority, window=min(first, pool_size), explore=explore, seed=seed, rescore=rescore)
        self.pool_size, self.grow = pool_size, grow

    def __next__(self) -> Task:
        task = super().__next__()
        self.window = min(self.pool_size, self.window * 2, self.window + self.grow)
        return task


class Probability(_Replaying):
    """Prodigy's random sampler by score: yield each task with probability its priority (the
    score itself for ``prefer_high_scores``), clipped to [``min_prob``, 1] so that a stream of
    sure scores still asks something. It trusts the scores as they are, where the EMA filter
    adapts to their scale. Seeded, so a run can be repeated.
    """

    def __init__(self, scored: Iterable[tuple[float, Task]], priority: Priority = lambda p: p, min_prob: float = 0.05,
                 seed: int = 0, rescore: Rescore | None = None) -> None:
        super().__init__(scored, priority, rescore)
        self.min_prob = min_prob
        self._rng = random.Random(seed)

    def __next__(self) -> Task:
        while True:
            item = self._next_item()
            if item is None:
                raise StopIteration
            score, task = item
            chance = min(1.0, max(self.min_prob, self.priority(score)))
            if is_pattern(task) or self._rng.random() < chance:
                return self._out(score, task)


def ema_filter(scored: Iterable[tuple[float, Task]], priority: Priority, alpha: float = 0.1, slack: float = 0.02,
               max_skip: int = 100, rescore: Rescore | None = None) -> EmaFilter:
    """A lazy :class:`EmaFilter` over ``scored``."""
    return EmaFilter(scored, priority, alpha=alpha, slack=slack, max_skip=max_skip, rescore=rescore)


def window_sort(scored: Iterable[tuple[float, Task]], priority: Priority, window: int = 64, explore: float = 0.0,
                seed: int = 0, rescore: Rescore | None = None) -> WindowSort:
    """A lazy :class:`WindowSort` over ``scored``."""
    return WindowSort(scored, priority, window=window, explore=explore, seed=seed, rescore=rescore)


def pool_sort(scored: Iterable[tuple[float, Task]], priority: Priority, pool_size: int = 20000, explore: float = 0.0,
              seed: int = 0, rescore: Rescore | None = None) -> PoolSort:
    """A lazy :class:`PoolSort` over ``scored``."""
    return PoolSort(scored, priority, pool_size=pool_size, explore=explore, seed=seed, rescore=rescore)


def probability(scored: Iterable[tuple[float, Task]], priority: Priority, min_prob: float = 0.05, seed: int = 0,
                rescore: Rescore | None = None) -> Probability:
    """A lazy :class:`Probability` sampler over ``scored``."""
    return Probability(scored, priority, min_prob=min_prob, seed=seed, rescore=rescore)


ALGORITHMS: dict[str, Callable[..., Iterator[Task]]] = {"ema": ema_filter, "window": window_sort, "pool": pool_sort,
                                                        "probability": probability}
OPTIONS: dict[str, tuple[str, ...]] = {"ema": ("alpha", "slack", "max_skip", "rescore"),
                                       "window": ("window", "explore", "seed", "rescore"),
                                       "pool": ("pool_size", "explore", "seed", "rescore"),
                                       "probability": ("min_prob", "seed", "rescore")}


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


def biased(priority: Priority, bias: float) -> Priority:
    """``priority`` leaning towards high scores (``bias`` > 0) or low ones (< 0), as Prodigy's ``bias``:
    a mix of the priority and the score (or 1 - score) in the proportion ``|bias|`` (at most 1)."""
    if not bias:
        return priority
    weight = min(1.0, abs(bias))
    lean: Priority = (lambda p: p) if bias > 0 else (lambda p: 1.0 - p)
    return lambda p: (1.0 - weight) * priority(p) + weight * lean(p)


def prefer_uncertain(stream: Iterable[tuple[float, Task]], algorithm: str = "ema", bias: float = 0.0,
                     **kwargs: Any) -> Iterator[Task]:
    """Ask about scores near 0.5 first (priority ``1 - |2p - 1|``); ``bias`` leans to high or low scores.

    ``algorithm``: Prodigy's ``"ema"`` (the default) and ``"probability"``, or binanno's ``"window"`` / ``"pool"``.
    """
    return sort_by(stream, biased(uncertainty, bias), algorithm, **kwargs)


def prefer_high_scores(stream: Iterable[tuple[float, Task]], algorithm: str = "ema", bias: float = 0.0,
                       **kwargs: Any) -> Iterator[Task]:
    """Ask about the highest scores first (priority ``p``); a negative ``bias`` tempers it towards low ones."""
    return sort_by(stream, biased(lambda p: p, bias), algorithm, **kwargs)


def prefer_low_scores(stream: Iterable[tuple[float, Task]], algorithm: str = "ema", bias: float = 0.0,
                      **kwargs: Any) -> Iterator[Task]:
    """Ask about the lowest scores first (priority ``1 - p``); a positive ``bias`` tempers it towards high ones."""
    return sort_by(stream, biased(lambda p: 1.0 - p, bias), algorithm, **kwargs)
