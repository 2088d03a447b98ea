"""A recipe for the page's browser tests, loaded with `-F`: serves given tasks with a given view_id.

It uses only the public recipe API, as a user's recipe would: tasks without `tokens` are split into
words and punctuation (as spaCy's blank English tokenizer would split these test sentences, without
the seconds its import takes), and the options switch on the components a test needs.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterator

from binanno import Arg, recipe, split_string


def tokens_of(text: str) -> list[dict[str, Any]]:
    """Prodigy's token format: words and single punctuation marks, with their trailing whitespace."""
    found = list(re.finditer(r"\w+|[^\w\s]", text))
    return [{"text": m.group(), "start": m.start(), "end": m.end(), "id": i, "ws": text[m.end():m.end() + 1].isspace()}
            for i, m in enumerate(found)]


@recipe(
    "page.tasks",
    dataset=Arg(help="Dataset to save answers to"),
    source=Arg(help="JSONL file of tasks"),
    view_id=Arg(help="Interface to draw them with", kind="option"),
    label=Arg(help="Labels for the label bar", kind="option", converter=split_string),
    require_spans=Arg(help="Refuse an accept with no spans", kind="flag"),
    total=Arg(help="Say how many questions there are", kind="flag"),
    progress=Arg(help="Comma-separated progress values, one per model update", kind="option", converter=split_string),
    config=Arg(help="More config, as JSON", kind="option"),
)
def page_tasks(dataset: str, source: str, view_id: str = "ner_manual", label: list[str] | None = None,
               require_spans: bool = False, total: bool = False, progress: list[str] | None = None,
               config: str | None = None) -> dict[str, Any]:
    """Serve the tasks of SOURCE with VIEW_ID."""
    with open(source, encoding="utf8") as f:
        tasks = [json.loads(line) for line in f if line.strip()]

    def stream() -> Iterator[dict[str, Any]]:
        for task in tasks:
            yield {**task, "tokens": task.get("tokens") or tokens_of(task["text"])}

    def validate(task: dict[str, Any]) -> None:
        if task["answer"] == "accept" and not task.get("spans"):
            raise ValueError("mark at least one span before accepting")

    components: dict[str, Any] = {
        "dataset": dataset,
        "stream": stream(),
        "view_id": view_id,
        "update": lambda answers: None,  # a model update per batch, so `progress` is asked again
        "config": {"labels": label or [], **json.loads(config or "{}")},
    }
    if require_spans:
        components["validate_answer"] = validate
    if total:
        components["total"] = len(tasks)
    if progress:
        values = [None if v == "none" else float(v) for v in progress]
        components["progress"] = lambda controller, last: values[min(controller.updates, len(values) - 1)]
    return components
