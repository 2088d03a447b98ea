"""Inter-annotator agreement per label between sessions, on inputs that several sessions answered.

Each label becomes a table of ratings: one row per item (a question, or an input and label), one
column per session, a category or nothing where that session didn't answer it. The coefficients
come from maintained libraries: Cohen's kappa from scikit-learn (exactly two sessions), Fleiss'
kappa from statsmodels (items with the most common number of raters, as it needs the same number
for each), Krippendorff's alpha (nominal) from ``krippendorff`` (any raters, missing allowed).
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from typing import Any, Iterable

from .errors import UserError
from .hashing import input_key, set_hashes, task_key
from .types import Task

Ratings = dict[str, dict[str, Any]]  # item -> session -> category


def _libraries() -> tuple[Any, Any, Any]:
    try:
        import krippendorff
        from sklearn.metrics import cohen_kappa_score
        from statsmodels.stats.inter_rater import fleiss_kappa
    except ImportError as e:
        raise UserError(f"agreement needs {e.name}: pip install 'binanno[iaa]'") from None
    return cohen_kappa_score, fleiss_kappa, krippendorff


def binary_ratings(answers: Iterable[Task]) -> dict[str, Ratings]:
    """Yes/no answers (``mark``, ``ner.teach``, ``textcat.teach``): per label, one item per question,
    accept or reject (ignored answers are no rating)."""
    labels: dict[str, Ratings] = {}
    for task in answers:
        if task.get("answer") not in ("accept", "reject"):
            continue
        task = set_hashes(task)
        spans = [s.get("label") for s in task.get("spans") or [] if s.get("label")]
        for label in spans or [task.get("label") or "(no label)"]:
            labels.setdefault(str(label), {}).setdefault(task_key(task), {})[str(task.get("_session_id") or "")] = task["answer"]
    return labels


def doc_ratings(answers: Iterable[Task]) -> dict[str, Ratings]:
    """Choice answers (``textcat.manual``): per option, one item per input, whether the session
    picked it (every option the dataset's answers name counts for every answered input)."""
    picked: dict[str, dict[str, set[str]]] = {}  # input -> session -> options picked
    options: set[str] = set()
    for task in answers:
        if task.get("answer") != "accept":
            continue
        task = set_hashes(task)
        fields: dict[str, Any] = dict(task)
        chosen = {str(c) for c in fields.get("accept") or []}
        options |= chosen | {str(o.get("id")) for o in fields.get("options") or [] if o.get("id") is not None}
        picked.setdefault(input_key(task), {})[str(task.get("_session_id") or "")] = chosen
    return {option: {item: {s: option in chosen for s, chosen in sessions.items()} for item, sessions in picked.items()}
            for option in sorted(options)}


def span_ratings(answers: Iterable[Task]) -> dict[str, Ratings]:
    """Manual span answers (``ner.manual``, ``spans.manual``): per label, one item per token of each
    input, whether the session put it inside a span of that label (an accepted answer is complete)."""
    marked: dict[str, dict[str, dict[str, set[int]]]] = {}  # input -> session -> label -> token indices
    sizes: dict[str, int] = {}
    for task in answers:
        if task.get("answer") != "accept" or not task.get("tokens"):
            continue
        task = set_hashes(task)
        key = input_key(task)
        sizes[key] = len(task.get("tokens") or [])
        by_label = marked.setdefault(key, {}).setdefault(str(task.get("_session_id") or ""), {})
        for span in task.get("spans") or []:
            if span.get("label") and isinstance(span.get("token_start"), int) and isinstance(span.get("token_end"), int):
                by_label.setdefault(str(span["label"]), set()).update(range(span["token_start"], span["token_end"] + 1))
    labels = {label for sessions in marked.values() for by_label in sessions.values() for label in by_label}
    return {label: {f"{key}:{i}": {s: i in by_label.get(label, set()) for s, by_label in sessions.items()}
                    for key, sessions in marked.items() for i in range(sizes[key])}
            for label in sorted(labels)}


def _nan_to_none(value: float) -> float | None:
    return None if value is None or math.isnan(value) else round(float(value), 4)


def agreement(ratings: Ratings) -> dict[str, Any]:
    """The coefficients for one label's ratings, over the items at least two sessions rated."""
    cohen_kappa_score, fleiss_kappa, krippendorff = _libraries()
    items = {item: by for item, by in ratings.items() if len(by) >= 2}
    sessions = sorted({s for by in items.values() for s in by})
    result: dict[str, Any] = {"items": len(items), "sessions": len(sessions), "observed": None,
                              "cohen_kappa": None, "fleiss_kappa": None, "krippendorff_alpha": None}
    if not items:
        return result
    categories = sorted({v for by in items.values() for v in by.values()}, key=str)
    index = {c: i for i, c in enumerate(categories)}
    pairs = agree = 0
    for by in items.values():
        values = list(by.values())
        for i in range(len(values)):
            for j in range(i + 1, len(values)):
                pairs += 1
                agree += values[i] == values[j]
    result["observed"] = round(agree / pairs, 4)
    with warnings.catch_warnings():  # one category only: the coefficients are undefined, reported as null
        warnings.simplefilter("ignore")
        if len(sessions) == 2:
            a, b = sessions
            both = [by for by in items.values() if a in by and b in by]
            result["cohen_kappa"] = _nan_to_none(cohen_kappa_score([index[by[a]] for by in both], [index[by[b]] for by in both],
                                                                   labels=list(range(len(categories)))))
        raters = Counter(len(by) for by in items.values()).most_common(1)[0][0]
        table = [[Counter(index[v] for v in by.values())[c] for c in range(len(categories))]
                 for by in items.values() if len(by) == raters]
        result["fleiss_kappa"] = _nan_to_none(fleiss_kappa(table, method="fleiss"))
        data = [[index[by[s]] if s in by else math.nan for by in items.values()] for s in sessions]
        try:
            result["krippendorff_alpha"] = _nan_to_none(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))
        except ValueError:  # "there has to be more than one value in the domain"
            pass
    return result


def iaa(ratings: dict[str, Ratings]) -> dict[str, dict[str, Any]]:
    """Agreement per label, for every label with items that two or more sessions rated."""
    return {label: agreement(r) for label, r in sorted(ratings.items())}
