"""Scores for simulations and benchmarks: exact-span NER and per-label text classification."""

from __future__ import annotations

from collections import Counter
from typing import Any, Iterable, Sequence

Entity = tuple[int, int, str]  # character start, end, label


def prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    """Precision, recall and F1 from counts (0 where undefined)."""
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"p": p, "r": r, "f": 2 * p * r / (p + r) if p + r else 0.0}


def ner_scores(gold: Iterable[Iterable[Entity]], predicted: Iterable[Iterable[Entity]], labels: Sequence[str]) -> dict[str, Any]:
    """Entity-level scores: a prediction counts only if start, end and label match a gold entity.

    Returns ``{"p", "r", "f", "labels": {label: {"p", "r", "f"}}}`` over ``labels`` (other
    labels are left out on both sides).
    """
    counts = {label: Counter[str]() for label in labels}
    for gold_ents, pred_ents in zip(gold, predicted, strict=True):
        g = {e for e in gold_ents if e[2] in counts}
        p = {e for e in pred_ents if e[2] in counts}
        for e in g & p:
            counts[e[2]]["tp"] += 1
        for e in p - g:
            counts[e[2]]["fp"] += 1
        for e in g - p:
            counts[e[2]]["fn"] += 1
    total = sum(counts.values(), Counter[str]())
    return {**prf(total["tp"], total["fp"], total["fn"]),
            "labels": {label: prf(c["tp"], c["fp"], c["fn"]) for label, c in counts.items()}}


def textcat_scores(gold: Sequence[Iterable[str]], probs: Sequence[dict[str, float]], labels: Sequence[str],
                   threshold: float = 0.5) -> dict[str, Any]:
    """Per-label precision, recall, F1 and ROC AUC (where both classes occur), and accuracy.

    ``gold`` holds the labels each example has; ``probs`` the model's probability per label.
    Accuracy is the share of examples whose predicted label set (probability >= threshold)
    equals the gold set; the top-level p/r/f are micro-averaged over labels.
    """
    from sklearn.metrics import roc_auc_score

    gold_sets = [set(g) for g in gold]
    per_label: dict[str, dict[str, float | None]] = {}
    total = Counter[str]()
    for label in labels:
        y = [label in g for g in gold_sets]
        scores = [p.get(label, 0.0) for p in probs]
        pred = [s >= threshold for s in scores]
        c = Counter(tp=sum(a and b for a, b in zip(y, pred)), fp=sum(b and not a for a, b in zip(y, pred)),
                    fn=sum(a and not b for a, b in zip(y, pred)))
        total += c
        auc = float(roc_auc_score(y, scores)) if 0 < sum(y) < len(y) else None
        per_label[label] = {**prf(c["tp"], c["fp"], c["fn"]), "auc": auc}
    exact = sum({lab for lab in labels if p.get(lab, 0.0) >= threshold} == (g & set(labels)) for g, p in zip(gold_sets, probs))
    return {"accuracy": exact / len(gold_sets) if gold_sets else 0.0,
            **prf(total["tp"], total["fp"], total["fn"]), "labels": per_label}
