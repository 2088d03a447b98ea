"""Run several models over the same lazy stream, batch by batch."""

from __future__ import annotations

from typing import Any, Iterable, Iterator

from ..types import Task
from .preprocess import batched


def combine(models: list[Any], stream: Iterable[Task], batch_size: int = 32) -> Iterator[tuple[float, Task]]:
    """Yield every model's (score, question) pairs for each batch of ``stream``, in model order.

    The stream is read once and lazily. Where two models ask the same question (the same task
    hash), the controller keeps the first, so put the model whose question should win first.
    """
    for batch in batched(stream, batch_size):
        for model in models:
            yield from model(batch)


def update_all(models: list[Any]) -> Any:
    """An ``update`` that gives each answer batch to every model; returns the first one's result."""

    def update(answers: list[Task]) -> Any:
        results = [model.update(answers) for model in models if hasattr(model, "update")]
        return results[0] if results else None

    return update


def combine_models(one: Any, two: Any, batch_size: int = 32) -> tuple[Any, Any]:
    """Prodigy's ``combine_models``: a ``(predict, update)`` pair over two models (say a model and a
    PatternMatcher). ``predict`` yields both models' (score, question) pairs for each batch of the
    stream; ``update`` gives each batch of answers to both."""

    def predict(stream: Iterable[Task]) -> Iterator[tuple[float, Task]]:
        return combine([one, two], stream, batch_size=batch_size)

    return predict, update_all([one, two])
