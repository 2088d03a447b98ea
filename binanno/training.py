"""Train a spaCy NER from stored binary answers, and evaluate it on held-out answers.

How the answers are used: all answers on one text are merged (see ``SpacyNER.remember``):
accepted spans are gold entities with every other token unknown, rejected spans are
known-wrong spans, and an accepted task with ``_complete`` gives all of the text's entities.

How the held-out answers are scored (binary evaluation). The split is by text, so no
evaluated text was trained on. For each held-out text, the trained model predicts entities
(greedy), keeping only the labels being trained. Then, per label:

- an accepted span that is predicted exactly (same start, end, label) is a true positive;
- an accepted span that is not predicted is a false negative;
- a rejected span that is predicted exactly is a false positive;
- a rejected span that is not predicted is a true negative;
- for a complete annotation, every predicted entity not in it is also a false positive;
- any other prediction is not counted: nobody said whether it is right.

precision = TP / (TP + FP), recall = TP / (TP + FN), F1 = 2PR / (P + R) (0 when undefined),
and accuracy = (TP + TN) / all counted decisions. "micro" sums the counts over labels.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any, Iterable

from .errors import UserError
from .learning.choices import expand
from .models.spacy_ner import SpacyNER, TextAnswers
from .types import Task

COUNTS = ("tp", "fp", "fn", "tn")


def _ratios(c: dict[str, int]) -> dict[str, Any]:
    p = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 0.0
    r = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    n = sum(c[k] for k in COUNTS)
    return {"p": p, "r": r, "f": f, "acc": (c["tp"] + c["tn"]) / n if n else 0.0, "n": n, **c}


def evaluate(model: SpacyNER, entries: Iterable[TextAnswers]) -> dict[str, Any]:
    """Binary P/R/F per label and micro-averaged, as described in the module docstring."""
    entries = list(entries)
    labels = set(model.labels)
    counts: dict[str, dict[str, int]] = {label: dict.fromkeys(COUNTS, 0) for label in model.labels}
    for entry, predicted in zip(entries, model.predict(e.text for e in entries)):
        pred = set(predicted)
        if entry.complete is not None:
            accepted, rejected = {k for k in entry.complete if k[2] in labels}, set()
            extra = pred - accepted
        else:
            accepted, rejected, extra = set(entry.accepted), set(entry.rejected), set()
        for key in accepted:
            counts[key[2]]["tp" if key in pred else "fn"] += 1
        for key in rejected - accepted:
            counts[key[2]]["fp" if key in pred else "tn"] += 1
        for key in extra:
            counts[key[2]]["fp"] += 1
    total = {k: sum(c[k] for c in counts.values()) for k in COUNTS}
    return {"labels": {label: _ratios(c) for label, c in counts.items()}, "micro": _ratios(total)}


def train_ner(
    examples: list[Task],
    output: Path | str | None,
    base_model: str | None = None,
    labels: list[str] | None = None,
    eval_split: float = 0.2,
    n_iter: int = 10,
    seed: int = 0,
    batch_size: int = 16,
    **settings: Any,
) -> dict[str, Any]:
    """Train on answers (``base_model`` or blank English), evaluate, save to ``output``.

    Returns ``{"labels": {label: scores}, "micro": scores, "baseline": ... , "losses": [...],
    "n_train": texts, "n_eval": texts, "n_answers": answers used, "output": path or None}``,
    where ``baseline`` is the same evaluation before training. Extra ``settings`` go to
    SpacyNER (learn_rate, dropout, ...). With no held-out texts, the scores are empty.
    """
    examples = expand(examples)  # label-choice and boundary-fix cards as the yes/no answers they stand for
    if labels is None:
        labels = sorted({s["label"] for t in examples if t.get("answer") in ("accept", "reject") for s in t.get("spans", [])})
    if not labels:
        raise UserError("No labelled answers to train from: annotate some spans first, or pass --label")
    # Many passes over all answers: spaCy's usual 0.001, not the online loop's larger step for a new NER.
    settings.setdefault("learn_rate", 0.001)
    model = SpacyNER.load(base_model or "blank:en", labels, seed=seed, replay=0, **settings)
    keys = model.remember(examples)
    if not keys:
        raise UserError("None of the answers is an accepted or rejected span with one of the labels; nothing to train")
    rng = random.Random(seed)
    rng.shuffle(keys)
    n_eval = int(round(len(keys) * eval_split)) if len(keys) > 1 else 0
    if eval_split > 0 and len(keys) > 1:
        n_eval = min(max(1, n_eval), len(keys) - 1)
    held_out, train_keys = keys[:n_eval], keys[n_eval:]
    eval_entries = [model.memory[k] for k in held_out]
    baseline = evaluate(model, eval_entries) if eval_entries else None
    train_examples = [eg for k in train_keys if (eg := model.example(k)) is not None]
    losses = []
    for _ in range(n_iter):
        rng.shuffle(train_examples)
        loss = sum(model.train_batch(train_examples[i : i + batch_size]) for i in range(0, len(train_examples), batch_size))
        losses.append(loss)
    scores = evaluate(model, eval_entries) if eval_entries else {"labels": {}, "micro": None}
    if output is not None:
        model.to_disk(output)
    return {
        **scores,
        "baseline": baseline,
        "losses": losses,
        "n_train": len(train_keys),
        "n_eval": len(held_out),
        "n_answers": sum(1 for t in examples if t.get("answer") in ("accept", "reject")),
        "output": str(output) if output is not None else None,
    }


def format_scores(scores: dict[str, Any]) -> str:
    """A plain-text table of per-label and micro scores (percentages) for the terminal."""
    lines = [f"Trained on {scores.get('n_train', '?')} texts, evaluated on {scores.get('n_eval', '?')} held-out texts"]
    if not scores.get("labels"):
        return lines[0] + " (no held-out answers: nothing to score)"
    header = f"{'label':<16}{'P':>7}{'R':>7}{'F':>7}{'acc':>7}{'TP':>6}{'FP':>6}{'FN':>6}{'TN':>6}"
    lines += [header, "-" * len(header)]
    rows = [*scores["labels"].items(), ("micro", scores["micro"])]
    for label, s in rows:
        lines.append(
            f"{label:<16}{s['p'] * 100:>7.1f}{s['r'] * 100:>7.1f}{s['f'] * 100:>7.1f}{s['acc'] * 100:>7.1f}"
            f"{s['tp']:>6}{s['fp']:>6}{s['fn']:>6}{s['tn']:>6}"
        )
    if scores.get("baseline"):
        b = scores["baseline"]["micro"]
        lines.append(f"{'baseline micro':<16}{b['p'] * 100:>7.1f}{b['r'] * 100:>7.1f}{b['f'] * 100:>7.1f}{b['acc'] * 100:>7.1f}")
    if scores.get("output"):
        lines.append(f"Saved to {scores['output']}")
    return "\n".join(lines)
