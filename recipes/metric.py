"""metric.iaa.*: how much the sessions of a dataset agree, per label, on the inputs several answered."""

from __future__ import annotations

import json
from typing import Any, Callable

from binanno import Arg, UserError, command, connect
from binanno.agreement import Ratings, binary_ratings, doc_ratings, iaa, span_ratings
from binanno.terminal import printable


def _report(dataset: str, kind: str, to_ratings: Callable[[Any], dict[str, Ratings]], json_: bool) -> None:
    db = connect()
    result = iaa(to_ratings(db.get_answers(dataset)))
    if not any(r["items"] for r in result.values()):
        raise UserError(f"No input in '{dataset}' was answered by two or more sessions: route questions to several "
                        "annotators with annotations_per_task 2 (or feed_overlap)")
    if json_:
        print(json.dumps({"dataset": dataset, "kind": kind, "labels": result}))
        return

    def number(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.3f}"

    print(f"Agreement in '{printable(dataset)}' ({kind}; n/a: undefined, e.g. Cohen's kappa needs exactly 2 sessions)")
    print(f"  {'label':<24} {'items':>6} {'sessions':>8} {'observed':>9} {'Cohen':>7} {'Fleiss':>7} {'Krippendorff':>12}")
    for label, r in result.items():
        print(f"  {printable(label):<24} {r['items']:>6} {r['sessions']:>8} {number(r['observed']):>9} "
              f"{number(r['cohen_kappa']):>7} {number(r['fleiss_kappa']):>7} {number(r['krippendorff_alpha']):>12}")


@command(
    "metric.iaa.binary",
    dataset=Arg(help="Dataset of yes/no answers (mark, ner.teach, textcat.teach) from several sessions"),
    json_=Arg(help="Print JSON instead of a table", kind="flag"),
)
def iaa_binary(dataset: str, json_: bool = False) -> None:
    """Agreement on yes/no answers per label: Cohen's kappa (2 sessions), Fleiss' kappa, Krippendorff's alpha."""
    _report(dataset, "binary", binary_ratings, json_)


@command(
    "metric.iaa.doc",
    dataset=Arg(help="Dataset of choice answers (textcat.manual) from several sessions"),
    json_=Arg(help="Print JSON instead of a table", kind="flag"),
)
def iaa_doc(dataset: str, json_: bool = False) -> None:
    """Agreement on document labels per option (picked or not): Cohen's kappa (2 sessions), Fleiss' kappa,
    Krippendorff's alpha."""
    _report(dataset, "doc", doc_ratings, json_)


@command(
    "metric.iaa.span",
    dataset=Arg(help="Dataset of manual span answers (ner.manual, spans.manual) from several sessions"),
    json_=Arg(help="Print JSON instead of a table", kind="flag"),
)
def iaa_span(dataset: str, json_: bool = False) -> None:
    """Agreement on manual spans per label, token by token (inside a span of the label or not): Cohen's kappa
    (2 sessions), Fleiss' kappa, Krippendorff's alpha."""
    _report(dataset, "span", span_ratings, json_)
