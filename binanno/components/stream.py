"""Prodigy's ``Stream`` (v1.12+): a stream of tasks that preprocessing steps are applied to in place.

::

    stream = get_stream(source)
    stream.apply(add_tokens, nlp=nlp, stream=stream)   # the stream named where the step takes it
    stream.apply(split_sentences, nlp)                 # or passed first

Loading itself is :func:`binanno.components.loaders.get_stream`; this module's ``get_stream``
wraps what it yields in a Stream, as Prodigy's ``components.stream.get_stream`` does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from ..types import Task
from . import loaders


class Stream:
    """An iterable of tasks with ``apply``: each step wraps the last one, lazily; nothing is read until iterated."""

    def __init__(self, source: Iterable[Task]) -> None:
        self.source = source

    def __iter__(self) -> Iterator[Task]:
        # The source's own iterator: a sorter under the stream keeps its give_back for the controller.
        return iter(self.source)

    def apply(self, func: Callable[..., Iterable[Task]], *args: Any, **kwargs: Any) -> Stream:
        """Run ``func`` over the stream so far and make its result the stream; returns this Stream.

        Where ``args`` or ``kwargs`` hold this Stream (``stream=stream``), the tasks so far go
        there; otherwise they are ``func``'s first argument. A list is taken as a finite stream.
        """
        named = any(a is self for a in args) or any(v is self for v in kwargs.values())
        args = tuple(self.source if a is self else a for a in args)
        kwargs = {k: self.source if v is self else v for k, v in kwargs.items()}
        self.source = func(*args, **kwargs) if named else func(self.source, *args, **kwargs)
        return self


def _source_is_dataset(source: Any) -> bool:
    """Whether ``source`` names a dataset's answers (``dataset:NAME``), as Prodigy's recipes check it."""
    return isinstance(source, str) and source.startswith(loaders.DATASET_PREFIX)


def get_stream(source: str | Path | Iterable[Task], *args: Any, **kwargs: Any) -> Stream:
    """A :class:`Stream` of the tasks in ``source`` (a file as ``loaders.get_stream`` reads it, or an
    iterable of tasks); the arguments are ``loaders.get_stream``'s. As in Prodigy, a record needs
    no text here: the steps applied to the stream may make the card (``require_content=True`` to check)."""
    if isinstance(source, (str, Path)):
        kwargs.setdefault("require_content", False)
        return Stream(loaders.get_stream(source, *args, **kwargs))
    return Stream(source)


__all__ = ["Stream", "get_stream"]
