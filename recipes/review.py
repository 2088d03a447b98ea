"""review: the answers several sessions gave to the same input, side by side, and the reviewer's final version."""

from __future__ import annotations

import copy
import json
from collections import Counter
from itertools import groupby
from typing import Any, Iterator

from binanno import Arg, UserError, connect, recipe, set_hashes, split_string
from binanno.components.count import Total
from binanno.hashing import hash_record, input_key
from binanno.labels import get_labels
from binanno.types import Components, Task
from binanno.views import VIEW_IDS, YES_NO_VIEWS

# Answers in the yes/no interfaces (YES_NO_VIEWS) are merged per question (task hash); the others
# are edited answers about an input, merged per input. A review's own answers are not reviewed again.
REVIEWED_VIEWS = tuple(v for v in VIEW_IDS if v != "review")
# Fields of an answer that are not part of what was answered.
ANSWER_ONLY = ("answer", "_session_id", "_timestamp", "_view_seconds", "_annotator_id")


@recipe(
    "review",
    dataset=Arg(help="Dataset to save the reviewed answers to"),
    in_sets=Arg(help="Comma-separated datasets whose answers to review", converter=split_string),
    view_id=Arg(help="Interface the answers were given in, where their datasets don't record it", kind="option",
                short="v", choices=REVIEWED_VIEWS),
    show_all=Arg(help="Ask about every input, not only those where the answers disagree", kind="flag", short="S"),
    auto_accept=Arg(help="Store the inputs everyone agreed on without asking, with the answer they all gave",
                    kind="flag", short="A"),
    label=Arg(help="Labels the reviewer can give (comma-separated or a file; default: those in the answers)",
              kind="option", short="l", converter=get_labels),
)
def review(dataset: str, in_sets: list[str], view_id: str | None = None, show_all: bool = False,
           auto_accept: bool = False, label: list[str] | None = None) -> Components:
    """Review the answers of several annotators: where they disagree, decide.

    The answers in IN_SETS are merged per input (per question for yes/no answers): each
    distinct version is shown read-only with the sessions that gave it and its answer, and
    below them the reviewer's own version, pre-filled from the most common one, editable in
    the interface the answers were given in. Only inputs where the versions differ are asked
    unless --show-all; with --auto-accept the others are stored as they are, without a question.
    """
    if not in_sets:
        raise UserError("No datasets to review: pass them as IN_SETS, e.g. review final news_alice,news_bob")
    if dataset in in_sets:
        raise UserError(f"'{dataset}' is one of the datasets under review: save the reviewed answers to a new dataset")
    db = connect()
    views = {name: db.meta(name).get("view_id") for name in in_sets}  # an unknown name is a one-line error here

    def merged() -> Iterator[Task]:
        # The answers are read one input at a time, in input-key order: nothing is held but one input's.
        # (By the 128-bit key: two texts whose 32-bit _input_hash collide are two inputs.)
        for _, answers in groupby(db.answers_by_input(in_sets), key=input_key):
            yield from merge_input(list(answers), views, view_id)

    def questions() -> Iterator[Task]:
        writer = connect() if auto_accept else None  # its own connection, beside the one reading
        agreed: list[Task] = []
        for task in merged():
            if len(task["versions"]) > 1 or show_all:  # type: ignore[typeddict-item]
                yield task
            elif writer is not None:
                agreed.append({**task, "answer": task["versions"][0]["answer"]})  # type: ignore[typeddict-item]
                if len(agreed) >= 50:
                    writer.add_answers(dataset, agreed, session_id=f"{dataset}-auto")
                    agreed = []
        if writer is not None and agreed:
            writer.add_answers(dataset, agreed, session_id=f"{dataset}-auto")

    def count() -> int:
        return sum(1 for task in merged() if len(task["versions"]) > 1 or show_all)  # type: ignore[typeddict-item]

    return {
        "dataset": dataset,  # where the reviewed answers go
        "stream": questions(),  # one merged task per input (or per yes/no question), conflicts only by default
        "view_id": "review",  # each version read-only, then the reviewer's own
        "total": Total(count),  # how many inputs there are to review (counted once, when first asked)
        "config": {"labels": label or answer_labels(db.answers_by_input(in_sets)), "exclude_by": "task"},
    }


def answer_labels(answers: Iterator[Task]) -> list[str]:
    """The span labels and chosen options in the answers, in the order first seen (for the reviewer's label bar)."""
    found: dict[str, None] = {}
    for task in answers:
        for span in task.get("spans", []):
            if span.get("label"):
                found.setdefault(span["label"])
        if task.get("label"):
            found.setdefault(task["label"])
    return list(found)


def merge_input(answers: list[Task], views: dict[str, str | None], view_id: str | None) -> Iterator[Task]:
    """The merged review tasks for the answers about one input: one, or one per yes/no question."""
    groups: dict[Any, list[tuple[str, Task]]] = {}
    for task in answers:
        view = original_view(task, views, view_id)
        key = ("task", task.get("_task_hash")) if view in YES_NO_VIEWS else ("input", view)
        groups.setdefault(key, []).append((view, task))
    for group in groups.values():
        yield merge(group)


def original_view(task: Task, views: dict[str, str | None], view_id: str | None) -> str:
    """The interface an answer was given in: its own ``_view_id``, its dataset's, --view-id, else a guess."""
    own = task.get("_view_id")
    if own:
        return own
    stored = {v for v in views.values() if v}
    if len(stored) == 1:
        return stored.pop()
    return view_id or guess_view(task)


def guess_view(task: Task) -> str:
    """The interface that fits an answer's fields: tokens and spans, options, a label, else ner."""
    if task.get("options"):  # type: ignore[misc]
        return "choice"
    if task.get("tokens") and "spans" in task and task.get("_question") != "binary":  # type: ignore[misc]
        return "ner_manual"
    if task.get("label") and not task.get("spans"):
        return "classification"
    return "ner"


def version_key(task: Task) -> str:
    """What makes two answers the same version: the answer, and the spans, choices or label it gives."""
    spans = sorted((s.get("start"), s.get("end"), s.get("label")) for s in task.get("spans", []))
    accept = sorted(map(str, task.get("accept") or []))  # type: ignore[misc]
    return json.dumps([task.get("answer"), spans, accept, task.get("label")])


def merge(group: list[tuple[str, Task]]) -> Task:
    """One review task from the answers of several sessions to the same question."""
    view = group[0][0]
    versions: dict[str, dict[str, Any]] = {}
    for _, task in group:
        key = version_key(task)
        if key not in versions:
            versions[key] = {**{k: v for k, v in copy.deepcopy(task).items() if k not in ANSWER_ONLY},
                             "answer": task.get("answer"), "sessions": []}
        session = task.get("_session_id") or ""
        if session not in versions[key]["sessions"]:
            versions[key]["sessions"].append(session)
    counts = Counter({key: len(v["sessions"]) for key, v in versions.items()})
    default = counts.most_common(1)[0][0]  # ties: the version given first
    for key, version in versions.items():
        version["default"] = key == default
    first = versions[default]
    question: dict[str, Any] = {k: copy.deepcopy(v) for k, v in first.items()
                                if k not in ("answer", "sessions", "default", "_task_hash")}
    question["versions"] = list(versions.values())
    question["view_id"] = view
    # The question's hash names the merged question, whatever the versions say.
    question["_task_hash"] = hash_record(["review", first.get("_input_hash"), group[0][1].get("_task_hash")
                                          if view in YES_NO_VIEWS else view])
    return set_hashes(question)  # type: ignore[arg-type]
