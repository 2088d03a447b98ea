"""Simulated annotation: the real question stream and model updates, answered from gold data.

A simulation asks the same questions that ``ner.teach`` / ``textcat.teach`` would (the same
model adapter, the same sorter), answers each from the gold annotations, gives the model the
answers in batches as the server's worker does, and scores the model on held-out data every
few decisions. Strategies:

- ``uncertain``: the teach recipes' order, most uncertain first.
- ``random``: the same candidate questions, in random order.
- ``manual`` (NER): whole random sentences annotated by hand, with all their gold entities,
  the baseline a binary loop has to beat per second of annotator time.

Each evaluation is one record: decisions, annotator seconds (decisions times a cost),
scores, answer counts and wall seconds.
"""

from __future__ import annotations

import copy
import random
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, cast

from .errors import UserError
from .hashing import set_hashes
from .metrics import ner_scores, textcat_scores
from .stream.sorters import prefer_uncertain, window_sort
from .types import Task

STRATEGIES = ("uncertain", "random", "manual")


@dataclass
class Costs:
    """Annotator seconds per binary decision and per fully annotated sentence."""

    decision: float = 3.0
    sentence: float = 10.0


def run(
    model: Any,
    questions: Iterable[Task],
    annotate: Callable[[Task], str],
    evaluate: Callable[[], dict[str, Any]],
    decisions: int,
    eval_every: int,
    cost: float,
    batch_size: int = 10,
) -> Iterator[dict[str, Any]]:
    """Answer ``questions`` with ``annotate``, update ``model`` per batch, yield scores every ``eval_every``.

    The first record is the starting model (0 decisions); the last is taken at ``decisions``
    or when the questions run out. A question whose task hash was asked before is skipped,
    as the server does.
    """
    if decisions < 1 or eval_every < 1 or batch_size < 1:
        raise UserError("--decisions, --eval-every and --batch-size must be at least 1")
    start = time.perf_counter()
    counts = {"accept": 0, "reject": 0}

    def record(n: int) -> dict[str, Any]:
        return {"decisions": n, "seconds": round(n * cost, 1), **evaluate(), **counts,
                "wall": round(time.perf_counter() - start, 2)}

    yield record(0)
    seen: set[int] = set()
    batch: list[Task] = []
    n = 0
    for question in questions:
        key = question.get("_task_hash")
        if key is not None:
            if key in seen:
                continue
            seen.add(key)
        answer = annotate(question)
        counts[answer] = counts.get(answer, 0) + 1
        batch.append({**question, "answer": answer})  # type: ignore[typeddict-item]
        n += 1
        if len(batch) >= batch_size or n % eval_every == 0 or n >= decisions:
            model.update(batch)
            batch = []
        if n % eval_every == 0 or n >= decisions:
            yield record(n)
        if n >= decisions:
            return
    if batch:
        model.update(batch)
    if n % eval_every:
        yield record(n)


def ordered(scored: Iterable[tuple[float, Task]], strategy: str, rng: random.Random, sorter: str = "window",
            **options: Any) -> Iterator[Task]:
    """The questions in the order a strategy asks them: uncertain first, or at random."""
    if strategy == "uncertain":
        return prefer_uncertain(scored, algorithm=sorter, **options)
    # A random priority over the same look-ahead window: the same candidates, in random order.
    return window_sort(scored, lambda _: rng.random())


# NER -------------------------------------------------------------------------------------


def map_gold(tasks: list[Task], label_map: dict[str, str]) -> list[Task]:
    """Hashed copies of gold tasks whose spans carry model labels; unmapped labels are dropped."""
    out = []
    for task in tasks:
        spans = [{**s, "label": label_map[s["label"]]} for s in task.get("spans", []) if s["label"] in label_map]
        out.append(set_hashes({"text": task["text"], "spans": spans}))  # type: ignore[typeddict-item]
    return out


def simulate_ner(
    model: Any,
    pool: list[Task],
    eval_set: list[Task],
    label_map: dict[str, str],
    strategy: str = "uncertain",
    decisions: int = 1000,
    eval_every: int = 100,
    seed: int = 0,
    costs: Costs | None = None,
    sorter: str = "window",
    batch_size: int = 10,
    **sorter_options: Any,
) -> Iterator[dict[str, Any]]:
    """Simulate ``ner.teach`` (or manual annotation) on ``pool``, scoring on ``eval_set``.

    ``label_map`` maps each gold label to the model's label for it (identity for a new
    model). The annotator accepts a question when its span and label match a gold entity
    exactly and rejects it otherwise. Records carry ``p``, ``r``, ``f`` and ``labels``
    (per gold label).
    """
    if strategy not in STRATEGIES:
        raise UserError(f"Unknown strategy '{strategy}': use one of {', '.join(STRATEGIES)}")
    costs = costs or Costs()
    rng = random.Random(seed)
    gold = map_gold(pool, label_map)
    rng.shuffle(gold)
    entities = {t["_input_hash"]: {(s["start"], s["end"], s["label"]) for s in t["spans"]} for t in gold}
    eval_gold = map_gold(eval_set, label_map)
    eval_texts = [t["text"] for t in eval_gold]
    eval_ents = [[(s["start"], s["end"], s["label"]) for s in t["spans"]] for t in eval_gold]
    back = {v: k for k, v in label_map.items()}

    def evaluate() -> dict[str, Any]:
        scores = ner_scores(eval_ents, model.predict(eval_texts), list(back))
        return {**{k: round(scores[k], 4) for k in "prf"},
                "labels": {back[label]: {k: round(v, 4) for k, v in s.items()} for label, s in scores["labels"].items()}}

    if strategy == "manual":
        # Whole sentences with all their (mapped) gold entities, as a full annotation.
        sentences = (cast(Task, {**t, "spans": copy.deepcopy(t["spans"]), "_complete": True}) for t in gold)
        return run(model, sentences, lambda t: "accept", evaluate, decisions, eval_every, costs.sentence, batch_size)

    def annotate(question: Task) -> str:
        span = question["spans"][0]
        return "accept" if (span["start"], span["end"], span["label"]) in entities[question["_input_hash"]] else "reject"

    texts = ({"text": t["text"]} for t in gold)
    stream = (set_hashes(t) for t in texts)  # type: ignore[arg-type]
    questions = ordered(model(stream), strategy, rng, sorter, **{"seed": seed, **sorter_options})
    return run(model, questions, annotate, evaluate, decisions, eval_every, costs.decision, batch_size)


# Text classification ---------------------------------------------------------------------


def simulate_textcat(
    model: Any,
    pool: list[dict[str, Any]],
    eval_set: list[dict[str, Any]],
    labels: list[str],
    strategy: str = "uncertain",
    decisions: int = 500,
    eval_every: int = 50,
    seed: int = 0,
    costs: Costs | None = None,
    sorter: str = "window",
    batch_size: int = 10,
    **sorter_options: Any,
) -> Iterator[dict[str, Any]]:
    """Simulate ``textcat.teach`` on ``pool`` (examples with an ``accept`` list), scoring on ``eval_set``.

    The annotator accepts "is this text L?" when L is in the example's ``accept`` list.
    Records carry ``accuracy``, ``p``, ``r``, ``f`` (micro) and ``labels`` with AUC.
    """
    if strategy not in ("uncertain", "random"):
        raise UserError(f"Unknown strategy '{strategy}' for text classification: use uncertain or random")
    costs = costs or Costs()
    rng = random.Random(seed)
    examples = [set_hashes({"text": t["text"]}) for t in pool]  # type: ignore[typeddict-item]
    order = list(range(len(examples)))
    rng.shuffle(order)
    truth = {examples[i]["_input_hash"]: set(pool[i].get("accept", [])) for i in order}
    eval_texts = [t["text"] for t in eval_set]
    eval_labels = [t.get("accept", []) for t in eval_set]

    def evaluate() -> dict[str, Any]:
        scores = textcat_scores(eval_labels, model.predict(eval_texts), labels)
        rounded = {label: {k: (round(v, 4) if v is not None else None) for k, v in s.items()} for label, s in scores["labels"].items()}
        return {**{k: round(scores[k], 4) for k in ("accuracy", "p", "r", "f")}, "labels": rounded}

    def annotate(question: Task) -> str:
        return "accept" if question["label"] in truth[question["_input_hash"]] else "reject"

    stream = ({"text": examples[i]["text"], "_input_hash": examples[i]["_input_hash"]} for i in order)
    questions = ordered(model(stream), strategy, rng, sorter, **{"seed": seed, **sorter_options})  # type: ignore[arg-type]
    return run(model, questions, annotate, evaluate, decisions, eval_every, costs.decision, batch_size)
