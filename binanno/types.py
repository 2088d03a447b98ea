"""The contracts between recipes, models, the controller and the server."""

from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator, Protocol, TypedDict, runtime_checkable


class Span(TypedDict, total=False):
    """A labelled character span; token offsets are inclusive, like Prodigy's."""

    start: int
    end: int
    token_start: int
    token_end: int
    label: str
    text: str


class Task(TypedDict, total=False):
    """One question (and, once answered, one answer) in Prodigy's task format."""

    text: str
    spans: list[Span]
    tokens: list[dict[str, Any]]
    label: str
    meta: dict[str, Any]
    answer: str  # "accept" | "reject" | "ignore"
    _input_hash: int
    _task_hash: int
    _session_id: str
    _timestamp: int
    _view_id: str


ANSWERS = ("accept", "reject", "ignore")

# What a task shows in place of text or beside it: the media the page draws, and html.
MEDIA_KEYS = ("image", "audio", "video", "html")
# What a record without text or media holds in their place: a pattern, a question with its context, a comparison's output.
STAND_IN_KEYS = ("pattern", "question", "context", "output")
# Any of these makes a task without text showable (the page or the recipe reads it).
CONTENT_KEYS = (*MEDIA_KEYS, "input", *STAND_IN_KEYS, "options")

Stream = Iterable[Task]
ScoredStream = Iterable[tuple[float, Task]]


@runtime_checkable
class Model(Protocol):
    """Anything that scores a stream and learns from answers (Prodigy's model idiom).

    ``model(stream)`` yields ``(score, task)`` pairs, one per candidate question, where the
    score is the model's probability that the answer is "accept". ``update(answers)`` learns
    from a batch of answered tasks and returns a loss (or None).
    """

    def __call__(self, stream: Iterable[Task]) -> Iterator[tuple[float, Task]]: ...

    def update(self, answers: list[Task]) -> float | None: ...


class Components(TypedDict, total=False):
    """What a recipe returns. Only ``stream`` is required to start the server."""

    dataset: str | None
    stream: Iterable[Task]
    view_id: str
    update: Callable[[list[Task]], Any]
    config: dict[str, Any]
    on_load: Callable[[Any], None]
    on_exit: Callable[[Any], None]
    before_db: Callable[[list[Task]], list[Task]]
    validate_answer: Callable[[Task], None]
    progress: Callable[..., float | None]
    total: int | Callable[[], int | None]
    exclude: list[str]
    stats: Callable[[], dict[str, Any]]

# Prodigy's names for the same contracts (``from prodigy.types import TaskType`` in its recipes).
TaskType = Task
StreamType = Stream
ScoredStreamType = ScoredStream
RecipeSettingsType = dict[str, Any]
