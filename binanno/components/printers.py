"""Prodigy's ``components.printers``: answers shown in the terminal.

``pretty_print_ner`` prints each text with its entities in brackets; ``get_compare_printer``
makes the ``on_exit`` of an A/B comparison recipe, which counts the answers for each side.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Callable, Iterable

from ..terminal import printable
from ..types import Task
from ..util import msg

MARKS = {"accept": "✔", "reject": "✘", "ignore": "·"}


def ner_line(task: Task) -> str:
    """The task's text with each span as ``[text LABEL]`` (overlapping spans: the first one wins)."""
    text, out, at = task.get("text", ""), [], 0
    for span in sorted(task.get("spans", []), key=lambda s: (s["start"], -s["end"])):
        if span["start"] < at:
            continue
        out += [text[at:span["start"]], f"[{text[span['start']:span['end']]} {span.get('label', '')}]"]
        at = span["end"]
    return printable("".join(out) + text[at:])


def pretty_print_ner(examples: Iterable[Task], labels: Iterable[str] | None = None, **_: Any) -> None:
    """Print each example as one line: its answer's mark, then the text with its entities in brackets."""
    wanted = set(labels) if labels else None
    for task in examples:
        if wanted is not None:
            task = {**task, "spans": [s for s in task.get("spans", []) if s.get("label") in wanted]}  # type: ignore[typeddict-item]
        print(f"{MARKS.get(task.get('answer', ''), ' ')} {ner_line(task)}")


def pretty_print(examples: Iterable[Task], **kwargs: Any) -> None:
    """Print examples: entity spans as ``pretty_print_ner`` does, a label after the text otherwise."""
    for task in examples:
        if task.get("spans"):
            pretty_print_ner([task], **kwargs)
        else:
            label = f"  ({task['label']})" if task.get("label") else ""
            print(f"{MARKS.get(task.get('answer', ''), ' ')} {printable(task.get('text', ''))}{label}")


def compare_counts(answers: Iterable[Task]) -> Counter[str]:
    """How often each side of an A/B task (its ``mapping``, e.g. ``{"A": "accept", "B": "reject"}``) was chosen."""
    counts: Counter[str] = Counter()
    for task in answers:
        mapping: dict[str, str] = task.get("mapping") or {}  # type: ignore[typeddict-item, assignment]
        answer = task.get("answer")
        chosen = [side for side, picked in mapping.items() if picked == answer]
        counts[chosen[0] if answer in ("accept", "reject") and chosen else "ignored"] += 1
    return counts


def get_compare_printer(name_a: str = "A", name_b: str = "B") -> Callable[[Any], None]:
    """An ``on_exit`` that prints how often A and B were preferred in the controller's dataset."""

    def on_exit(ctrl: Any) -> None:
        counts = compare_counts(ctrl.db.get_dataset_examples(ctrl.dataset))
        decided = counts["A"] + counts["B"]
        msg.divider("Comparison")
        for side, name in (("A", name_a), ("B", name_b)):
            share = f"{counts[side] / decided:.0%}" if decided else "-"
            print(f"{side} ({printable(name)}): {counts[side]} ({share})")
        print(f"ignored: {counts['ignored']}")

    return on_exit


__all__ = ["get_compare_printer", "pretty_print", "pretty_print_ner"]
