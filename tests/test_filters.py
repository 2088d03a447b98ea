"""binanno.components.filters: Prodigy's stream filters, against answers in a real SQLite file."""

from __future__ import annotations

from pathlib import Path

from binanno.components.db import connect
from binanno.components.filters import filter_duplicates, filter_inputs, filter_tasks
from binanno.util import set_hashes

TASKS = [{"text": "a", "label": "X"}, {"text": "a", "label": "Y"}, {"text": "a", "label": "X"}, {"text": "b", "label": "X"}]


def test_filter_duplicates_by_task_and_by_input() -> None:
    by_task = [(t["text"], t["label"]) for t in filter_duplicates([dict(t) for t in TASKS])]
    assert by_task == [("a", "X"), ("a", "Y"), ("b", "X")]
    by_input = [(t["text"], t["label"]) for t in filter_duplicates([dict(t) for t in TASKS], by_input=True, by_task=False)]
    assert by_input == [("a", "X"), ("b", "X")]


def test_filter_inputs_and_tasks_skip_what_a_dataset_answered(tmp_path: Path) -> None:
    db = connect(str(tmp_path / "answers.db"))
    db.add_dataset("done")
    db.add_examples([{**set_hashes({"text": "a", "label": "X"}), "answer": "accept"}], datasets=["done"])
    left_by_task = [(t["text"], t["label"]) for t in filter_tasks([dict(t) for t in TASKS], db.get_task_hashes("done"))]
    assert left_by_task == [("a", "Y"), ("b", "X")]
    left_by_input = [t["text"] for t in filter_inputs([dict(t) for t in TASKS], db.get_input_hashes("done"))]
    assert left_by_input == ["b"]


def test_filters_are_lazy() -> None:
    def endless():
        n = 0
        while True:
            n += 1
            yield {"text": str(n % 3)}

    first = filter_duplicates(endless())
    assert [next(first)["text"] for _ in range(3)] == ["1", "2", "0"]
