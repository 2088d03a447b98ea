"""mark: yes/no review of pre-annotated examples, no model. Copy this file to write your own recipe."""

from __future__ import annotations

import copy
from typing import Iterable, Iterator

from binanno import Arg, UserError, get_stream, recipe, set_hashes, split_string
from binanno.components.count import Total, count_records
from binanno.types import Components, Task
from binanno.views import VIEW_IDS

# The yes/no interfaces (binanno.views.YES_NO_VIEWS) that show a span or label: one question per span.
PER_SPAN_VIEWS = ("binary", "ner", "classification")


@recipe(
    "mark",
    dataset=Arg(help="Dataset to save answers to"),
    source=Arg(help="Input file (JSONL, JSON, CSV or TXT), or - for stdin"),
    label=Arg(help="Only ask about these labels (comma-separated); for texts without spans, ask 'is it LABEL?'",
              kind="option", short="l", converter=split_string),
    loader=Arg(help="Loader to read SOURCE with, if not from its extension", kind="option", choices=("jsonl", "json", "csv", "txt")),
    exclude=Arg(help="Skip examples answered in these datasets (comma-separated)", kind="option", short="e", converter=split_string),
    skip_invalid=Arg(help="Skip invalid input lines (with a count) instead of stopping", kind="flag"),
    view_id=Arg(help="Interface to show the examples in (default: binary, one yes/no question per span or label; "
                     "any other asks each example whole)", kind="option", short="v", choices=VIEW_IDS),
)
def mark(dataset: str, source: str, label: list[str] | None = None, loader: str | None = None,
         exclude: list[str] | None = None, skip_invalid: bool = False, view_id: str | None = None) -> Components:
    """Review pre-annotated examples, one yes/no question per span or label.

    Every span of an input becomes its own question (the span highlighted with its label);
    an input with a `label` but no spans asks about that label, and with --label, a text
    with neither is asked once per label. A complete annotation (`_complete`: its spans are
    all the text's entities) is asked whole: "are these all of its entities, and all right?". No model is involved: answers go straight to the
    dataset, ready for `db-out` or `train`. With --view-id (ner_manual, choice, html, ...) each
    example is asked whole in that interface instead.
    """
    # Read the source lazily: nothing is loaded into memory up front.
    stream = get_stream(source, loader=loader, skip_invalid=skip_invalid)
    view_id = view_id or "binary"
    if view_id in PER_SPAN_VIEWS:
        # Split each example into single binary questions; count them once, for the progress bar.
        questions = split_questions(stream, labels=label)
        total = Total(lambda: _count_questions(source, loader, label))
    else:
        # Asked whole; the manual interfaces need tokens.
        questions = whole_questions(stream, view_id)
        total = Total(lambda: count_records(source, loader))
    return {
        "dataset": dataset,  # where the answers go
        "stream": questions,  # the questions, one span or label each (or whole examples)
        "view_id": view_id,  # binary: the page draws spans or labels, whichever a task has
        "exclude": exclude,  # other datasets whose answered questions are skipped
        "total": total,  # how many questions there are, when the source is a file
        "config": {"labels": label or []},  # shown on the page
    }


def _count_questions(source: str, loader: str | None, labels: list[str] | None) -> int | None:
    if source == "-":
        return None  # stdin can be read once only
    try:
        return sum(1 for _ in split_questions(get_stream(source, loader=loader), labels=labels))
    except UserError:
        return None  # a bad record: the stream itself says which, when it gets there


def whole_questions(stream: Iterable[Task], view_id: str) -> Iterator[Task]:
    """Each example as one question; for the manual span interfaces, with tokens (spaCy's English tokenizer)."""
    if view_id not in ("ner_manual", "spans_manual"):
        yield from stream
        return
    import spacy

    from binanno.components.preprocess import add_tokens, batched

    nlp = spacy.blank("en")
    # A batch at a time through the tokenizer's pipe; a task that brings its own tokens keeps them.
    for batch in batched(stream, 64):
        for _ in add_tokens(nlp, [t for t in batch if not t.get("tokens")], batch_size=len(batch)):
            pass  # add_tokens sets the tokens on the tasks themselves
        yield from batch


def split_questions(stream: Iterable[Task], labels: list[str] | None = None) -> Iterator[Task]:
    """One task per span (or per label), each with its own task hash."""
    wanted = set(labels or [])
    for task in stream:
        spans = task.get("spans") or []
        if task.get("_complete"):  # type: ignore[misc]
            yield set_hashes({**task, "_question": "verify"}, overwrite=True)  # type: ignore[typeddict-unknown-key]
        elif spans:
            for span in spans:
                if wanted and span.get("label") not in wanted:
                    continue
                question = copy.deepcopy(task)
                question["spans"] = [span]
                yield set_hashes(question, overwrite=True)
        elif task.get("label"):
            if not wanted or task["label"] in wanted:
                yield task
        elif wanted:
            for name in labels or []:
                yield set_hashes({**copy.deepcopy(task), "label": name}, overwrite=True)
        else:
            yield task
