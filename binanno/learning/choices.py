"""Label-choice and boundary-fix questions: one ``choice`` card about one span, read back as yes/no answers.

Many of the model's errors are near misses: the right span with the wrong label, or the right
label on a span a token or two off (issue 10: 11 % and 25 % of the rejects in BTC's 0.2-0.8
band). A yes/no question finds one such error per decision; a choice card settles all the
alternatives at once:

- ``label``: one span highlighted in its sentence, "which label is this?", the labels the model
  gives it as options, plus "none of these".
- ``boundary``: the alternative boundaries the model gives one label in one place, each option
  the sentence with that span highlighted, plus "none of these".

An answer stores what was shown and chosen (``options``, ``accept``), as Prodigy's choice
interface does. :func:`as_binary` reads it as the yes/no answers it stands for: the chosen
option's span accepted and every other option's span rejected; "none of these", or a reject of
the whole card, rejects them all. ``train`` (binanno.corpus) and the model's update read it so.
The card's own ``spans`` carry no label, so that a reader that doesn't know the card learns
nothing from it rather than something wrong.
"""

from __future__ import annotations

import copy
from typing import Any, Iterable

from ..hashing import set_hashes
from ..types import Task

LABEL, BOUNDARY = "label", "boundary"
KINDS = (LABEL, BOUNDARY)
NONE = "__none__"  # the "none of these" option's id
MAX_OPTIONS = 4  # alternatives per card, besides "none of these"
Key = tuple[int, int, str]  # token start, end (exclusive), label


def is_choice(task: Task) -> bool:
    """Whether ``task`` is a label-choice or boundary-fix card (asked or answered)."""
    return task.get("_question") in KINDS and isinstance(task.get("options"), list)  # type: ignore[misc]


def as_binary(task: Task) -> list[Task]:
    """A choice card's answer as one-span yes/no answers; [] when it says nothing (ignored, nothing chosen)."""
    fields: dict[str, Any] = dict(task)
    options = [o for o in fields.get("options") or [] if isinstance(o, dict) and o.get("id") != NONE]
    if task.get("answer") == "reject":
        chosen: set[Any] = set()  # "none of these fits"
    elif task.get("answer") == "accept" and fields.get("accept"):
        chosen = set(fields["accept"])
    else:
        return []
    out = []
    for option in options:
        for span in option_spans(fields, option):
            part = {k: v for k, v in fields.items() if k not in ("options", "accept", "spans", "_task_hash", "_complete")}
            part["spans"] = [span]
            if isinstance(option.get("score"), (int, float)):  # the model's score for this option: calibration
                part["meta"] = {**(part.get("meta") or {}), "score": option["score"]}
            part["answer"] = "accept" if option["id"] in chosen else "reject"
            out.append(part)
    return out  # type: ignore[return-value]


def expand(answers: Iterable[Task]) -> list[Task]:
    """``answers`` with every choice card replaced by the yes/no answers it stands for."""
    out: list[Task] = []
    for task in answers:
        out.extend(as_binary(task) if is_choice(task) else [task])
    return out


def option_spans(task: dict[str, Any], option: dict[str, Any]) -> list[dict[str, Any]]:
    """The labelled spans that choosing ``option`` accepts."""
    if task.get("_question") == LABEL:
        return [{**s, "label": str(option["id"])} for s in task.get("spans") or []]
    return [dict(s) for s in option.get("spans") or [] if s.get("label")]


def _span(doc: Any, start: int, end: int, label: str | None = None) -> dict[str, Any]:
    span = doc[start:end]
    out = {"start": span.start_char, "end": span.end_char, "token_start": start, "token_end": end - 1}
    return {**out, "label": label} if label else out


def label_card(base: dict[str, Any], doc: Any, tokens: list[dict[str, Any]], start: int, end: int,
               labels: list[tuple[str, float]]) -> Task:
    """"Which label is this?" about tokens ``start``..``end``: ``labels`` (label, model score), surest first."""
    new = copy.deepcopy(base)
    new["tokens"] = [dict(t) for t in tokens]
    new["spans"] = [_span(doc, start, end)]  # no label: the options say which
    new["options"] = [{"id": label, "text": label, "score": round(p, 4)} for label, p in labels]
    new["options"].append({"id": NONE, "text": "none of these"})
    new["_question"], new["_view_id"] = LABEL, "choice"
    new["_group"] = f"{start}:{end}"  # the same card after the model changed (binanno.components.rescore)
    new.setdefault("meta", {})["score"] = round(labels[0][1], 4)
    return set_hashes(new)  # type: ignore[arg-type]


def boundary_card(base: dict[str, Any], doc: Any, tokens: list[dict[str, Any]], label: str,
                  spans: list[tuple[int, int, float]]) -> Task:
    """Which of the overlapping ``spans`` (token start, end, model score), surest first, is the ``label`` here?"""
    new = copy.deepcopy(base)
    new["tokens"] = [dict(t) for t in tokens]
    new["options"] = [{"id": f"{s}:{e}", "text": doc[s:e].text, "spans": [_span(doc, s, e, label)], "score": round(p, 4)}
                      for s, e, p in spans]
    new["options"].append({"id": NONE, "text": "none of these"})
    new["label"] = label
    new["_question"], new["_view_id"] = BOUNDARY, "choice"
    new["_group"] = f"{label}:{min(s for s, _, _ in spans)}"
    new.setdefault("meta", {})["score"] = round(spans[0][2], 4)
    return set_hashes(new)  # type: ignore[arg-type]


def label_groups(cal: dict[Key, float], floor: float) -> list[tuple[int, int, list[tuple[str, float]]]]:
    """Spans the model gives two labels or more (each at least ``floor``): (start, end, labels surest first)."""
    by_span: dict[tuple[int, int], list[tuple[str, float]]] = {}
    for (s, e, label), q in cal.items():
        if q >= floor:
            by_span.setdefault((s, e), []).append((label, q))
    return [(s, e, sorted(found, key=lambda p: -p[1])[:MAX_OPTIONS])
            for (s, e), found in sorted(by_span.items()) if len(found) > 1]


def boundary_groups(cal: dict[Key, float], floor: float) -> list[tuple[str, list[tuple[int, int, float]]]]:
    """Overlapping spans with one label (each at least ``floor``), two or more: (label, spans surest first)."""
    out = []
    for label in sorted({k[2] for k in cal}):
        spans = sorted((s, e, q) for (s, e, lab), q in cal.items() if lab == label and q >= floor)
        cluster: list[tuple[int, int, float]] = []
        reach = -1
        for span in [*spans, (10**9, 10**9, 0.0)]:  # a sentinel closes the last cluster
            if span[0] >= reach and cluster:
                if len(cluster) > 1:
                    out.append((label, sorted(cluster, key=lambda c: -c[2])[:MAX_OPTIONS]))
                cluster = []
            cluster.append(span)
            reach = max(reach, span[1]) if len(cluster) > 1 else span[1]
    return out
