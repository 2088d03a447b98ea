"""textcat.manual: label whole texts by hand, a yes/no card for one label or a choice of several."""

from __future__ import annotations

import copy
from typing import Iterable, Iterator

from binanno import Arg, UserError, get_stream, recipe, set_hashes, split_string
from binanno.components.count import Total, count_records
from binanno.labels import get_labels, require_labels
from binanno.types import Components, Task


@recipe(
    "textcat.manual",
    dataset=Arg(help="Dataset to save answers to"),
    source=Arg(help="Input file (JSONL, JSON, CSV or TXT), or - for stdin"),
    label=Arg(help="Comma-separated labels, or a file with one label a line", kind="option", short="l", converter=get_labels),
    exclusive=Arg(help="The labels are mutually exclusive: pick exactly one per text", kind="flag", short="E"),
    exclude=Arg(help="Skip texts answered in these datasets (comma-separated)", kind="option", short="e", converter=split_string),
    loader=Arg(help="Loader to read SOURCE with, if not from its extension", kind="option", choices=("jsonl", "json", "csv", "txt")),
)
def textcat_manual(dataset: str, source: str, label: list[str] | None = None, exclusive: bool = False,
                   exclude: list[str] | None = None, loader: str | None = None) -> Components:
    """Label texts by hand: one label asks yes/no per text; several are a choice.

    With one label each text is a yes/no card ("is this text LABEL?"). With several each
    text comes with the labels as options: pick one (--exclusive) or any number; the chosen
    labels are stored in the answer's `accept`, as Prodigy stores them. No model is involved.
    """
    labels = require_labels(label, "POSITIVE,NEGATIVE")
    if exclusive and len(labels) < 2:
        raise UserError("--exclusive needs at least two labels (e.g. --label POSITIVE,NEGATIVE); for one label leave it out")
    # Read lazily; one question per text.
    stream = get_stream(source, loader=loader)
    single = len(labels) == 1
    config = {"labels": labels, "exclusive": exclusive}
    if not single:
        config["choice_style"] = "single" if exclusive else "multiple"
    return {
        "dataset": dataset,  # where the answers go
        "stream": ask_label(stream, labels[0]) if single else add_options(stream, labels),
        "view_id": "classification" if single else "choice",  # the label above the text, or the options below it
        "exclude": exclude,  # datasets whose answered texts are skipped
        "total": Total(lambda: count_records(source, loader)),  # one question per record of a file
        "config": config,
    }


def ask_label(stream: Iterable[Task], label: str) -> Iterator[Task]:
    """Each task asking 'is it ``label``?', hashed again (the label is part of the question)."""
    for task in stream:
        yield set_hashes({**task, "label": label}, overwrite=True)


def add_options(stream: Iterable[Task], labels: list[str]) -> Iterator[Task]:
    """Each task with the labels as ``options``; labels the source already chose stay chosen (``accept``)."""
    options = [{"id": label, "text": label} for label in labels]
    for task in stream:
        question = {**task, "options": copy.deepcopy(options)}
        chosen = task.get("accept")  # type: ignore[misc]
        question["accept"] = [x for x in chosen if x in labels] if isinstance(chosen, list) else []
        yield set_hashes(question, overwrite=True)  # type: ignore[arg-type]
