"""A custom recipe as Prodigy's docs write one today (imports changed only, by bench/prodigy_compat.py):
radicli-style ``Arg`` with a ``List[str]`` option, ``Stream.apply``, records without text."""

from typing import List

from prodigy.components.stream import get_stream
from prodigy.core import Arg, recipe
from prodigy.protocols import ControllerComponentsDict
from prodigy.types import StreamType


def add_options(stream: StreamType, labels: List[str]) -> StreamType:  # noqa: UP006 (as Prodigy's docs write it)
    for task in stream:
        task["options"] = [{"id": label, "text": label} for label in labels]
        task["html"] = f"<p>{task['item1']}</p><p>{task['item2']}</p>"
        yield task


@recipe(
    "compat.pairs",
    dataset=Arg(help="Dataset to save answers to"),
    source=Arg(help="JSONL file of item1/item2 pairs"),
    label=Arg("--label", "-l", help="The options to choose from"),
)
def compat_pairs(dataset: str, source: str, label: List[str] = ["same", "different"]) -> ControllerComponentsDict:  # noqa: UP006, B006
    """Say whether two records are the same thing."""
    stream = get_stream(source)
    stream.apply(add_options, stream=stream, labels=label)
    return {"dataset": dataset, "stream": stream, "view_id": "choice", "config": {"choice_style": "single"}}
