"""Scoring questions again once the model has learnt, so what is asked follows the latest model.

The server scores questions ahead of the annotator (the look-ahead, and the sorter's window),
so without this a question is asked on the scores of a model several updates old: in the
server textcat.teach asked its first ~80 questions at the untrained 0.5 in file order, after 7
updates. A :class:`Rescorer` wraps a scorer (the model, or several combined) and its update
callback: it counts updates, and when a sorter asks, scores the questions it holds again
under the new weights. Questions are matched by task hash, or for whole-sentence questions
(whose pre-annotated spans change with the model) by input and question type, and for choice
cards about one span by input, type and the span's place (``_group``); a question the
model no longer proposes at all scores 0.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator

from ..hashing import input_hash, input_values
from ..types import Task

SENTENCE_QUESTIONS = ("verify", "correct")


def question_key(task: Task) -> Any:
    kind = task.get("_question")  # type: ignore[misc]
    if kind in SENTENCE_QUESTIONS:
        return (task.get("_input_hash"), kind)
    if task.get("_group") is not None:  # a choice card about one span: its options change with the model
        return (task.get("_input_hash"), kind, task.get("_group"))
    return task.get("_task_hash")


class Rescorer:
    """``update`` counts the model's updates; calling it with questions scores them again (or None).

    ``question_scores`` (optional: a model's method taking questions and returning one score
    each, or None where it can't) scores held questions as they are, without building them
    again: for a pool of thousands of texts, building the questions cost more than scoring.
    """

    def __init__(self, scorer: Callable[[Iterable[Task]], Iterator[tuple[float, Task]]],
                 update: Callable[[list[Task]], Any],
                 question_scores: Callable[[list[Task]], list[float] | None] | None = None) -> None:
        self.scorer, self._update = scorer, update
        self.question_scores = question_scores
        self.version = 0
        self._scored_at = 0

    def update(self, answers: list[Task]) -> Any:
        """The model's update; afterwards the questions held ahead are stale."""
        result = self._update(answers)
        self.version += 1
        return result

    @property
    def stale(self) -> bool:
        """Whether the model has learnt since the last rescoring."""
        return self._scored_at != self.version

    def __call__(self, tasks: list[Task]) -> list[tuple[float, Task]] | None:
        """Fresh (score, question) pairs for ``tasks``, or None when the model hasn't changed since last time."""
        if self._scored_at == self.version:
            return None
        self._scored_at = self.version
        return self.score(tasks)

    def score(self, tasks: list[Task]) -> list[tuple[float, Task]]:
        """(score, question) pairs for ``tasks`` under the current weights, whether or not they changed."""
        scores = self.question_scores(tasks) if self.question_scores is not None else None
        if scores is not None:
            for task, score in zip(tasks, scores):
                task.setdefault("meta", {})["score"] = score  # type: ignore[typeddict-item]
            return list(zip(scores, tasks))
        inputs: dict[Any, dict[str, Any]] = {}
        for task in tasks:
            key = input_hash(task)
            inputs.setdefault(key, {**input_values(task), "_input_hash": key})
        wanted = {question_key(t) for t in tasks}
        fresh: dict[Any, tuple[float, Task]] = {}
        for score, question in self.scorer(list(inputs.values())):  # type: ignore[arg-type]
            key = question_key(question)
            if key in wanted:
                fresh[key] = (score, question)
        return [fresh.get(question_key(t), (0.0, t)) for t in tasks]


class InOrder:
    """The questions of a scored stream in the source's order, re-annotated when the model has learnt.

    For recipes that ask everything (ner.correct): nothing is ranked, but what the controller
    gives back after an update (``give_back``, the questions scored ahead and not sent yet)
    is scored again by ``rescore`` and asked first, so the pre-annotations ahead of the
    annotator come from the latest model.
    """

    ranks = False  # the controller keeps no batch to rank again (_rank_kept): that would reorder the source

    def __init__(self, scored: Iterable[tuple[float, Task]], rescore: Rescorer | None = None) -> None:
        self._scored = iter(scored)
        self.rescore = rescore
        self._back: list[Task] = []

    def __iter__(self) -> InOrder:
        return self

    def __next__(self) -> Task:
        if self._back:
            return self._back.pop(0)
        return next(self._scored)[1]

    def give_back(self, tasks: list[Task]) -> None:
        """Questions handed out but never asked: asked next, in their order, scored again."""
        fresh = None
        if self.rescore is not None and tasks:
            # Not stale: the controller's kept batch, annotated by the model before the last rescoring.
            fresh = self.rescore(tasks) if self.rescore.stale else self.rescore.score(tasks)
        self._back = ([task for _, task in fresh] if fresh is not None else list(tasks)) + self._back
