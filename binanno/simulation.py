"""Simulated annotation: the real question stream and model updates, answered from gold data.

A simulation asks the same questions that ``ner.teach`` / ``textcat.teach`` would (the same
model adapter, the same sorter), answers each from the gold annotations, gives the model the
answers in batches as the server's worker does, and scores the model on held-out data every
few decisions. Strategies:

- ``uncertain``: the teach recipes' binary questions, most uncertain first.
- ``random``: the same candidate questions, in random order.
- ``manual`` (NER): whole random sentences annotated by hand, with all their gold entities,
  the baseline a binary loop has to beat per second of annotator time.
- ``auto``, ``binary``, ``verify``, ``correct``, ``label``, ``boundary`` (NER): the question
  types of binanno.learning.questions, ranked by the errors they are expected to reveal per second.
  With ``anchors``, that share of the sentences (the surest by rank) is asked as verify cards;
  ``uncertain`` with anchors asks its yes/no questions through the same planner.

Each question costs annotator seconds by its type (binanno.learning.costs); a run stops
after ``decisions`` questions or ``minutes`` of annotator time, whichever comes first.
Each evaluation is one record: decisions, annotator seconds, scores, answer counts, the
questions asked per type and wall seconds.
"""

from __future__ import annotations

import copy
import json
import random
import time
from typing import Any, Callable, Iterable, Iterator, cast

from .components.rescore import Rescorer
from .components.sorters import prefer_uncertain, sort_by, window_sort
from .errors import UserError
from .hashing import set_hashes
from .learning.choices import NONE, expand, is_choice, option_spans
from .learning.costs import Costs, edits
from .learning.questions import QuestionPlanner
from .metrics import ner_scores, textcat_scores
from .types import Task

QUESTION_STRATEGIES = ("auto", "binary", "verify", "correct", "label", "boundary")
STRATEGIES = ("uncertain", "random", "manual", *QUESTION_STRATEGIES)

__all__ = ["Costs", "STRATEGIES", "run", "simulate_ner", "simulate_textcat"]


def run(
    update: Callable[[list[Task]], Any],
    questions: Iterable[Task],
    annotate: Callable[[Task], tuple[Task, float]],
    evaluate: Callable[[], dict[str, Any]],
    decisions: int,
    eval_every: int,
    batch_size: int = 10,
    minutes: float | None = None,
    lookahead: int | None = None,
    train_at: Iterable[float] = (),
    train: Callable[[list[Task]], dict[str, Any]] | None = None,
    answers_path: str | None = None,
    eval_minutes: float | None = None,
) -> Iterator[dict[str, Any]]:
    """Serve ``questions`` through the real controller, answer them with ``annotate``, yield scores.

    The loop is the server's: the controller's worker scores ``lookahead`` questions ahead
    (the ``lookahead`` setting unless given), hands out batches of ``batch_size``, stores
    every answer in a SQLite file and calls ``update`` off the request path. The simulated
    annotator takes its time as a person does: it answers a batch only once the look-ahead has
    filled up behind it, and fetches the next only once its answers are learnt from, so a run
    is repeatable and asks what the server would ask an annotator who answers every few seconds.

    ``annotate`` returns the answered task and the annotator seconds it cost. The first
    record is the starting model (0 decisions); then one every ``eval_every`` decisions, one
    each time the annotator's clock passes another ``eval_minutes`` (records as far apart in
    time for every question type: 50 corrected tweets take 12 minutes, 50 yes/no questions 2.5),
    and a last one at ``decisions``, after ``minutes`` of annotator time, or when the questions run
    out. A question asked before (same task hash) is not asked again, as in the server.

    With ``train``, the first record at or after each of the ``train_at`` annotator minutes
    also has ``train``: ``train(answers)`` on every answer stored so far, i.e. the scores of
    the model a user would ship with ``binanno train``, beside the in-loop model's. With
    ``answers_path``, every stored answer is written there as JSONL when the run ends.
    """
    import tempfile
    from pathlib import Path

    from .components.db import Database
    from .config import resolve
    from .controller import Controller

    if decisions < 1 or eval_every < 1 or batch_size < 1:
        raise UserError("--decisions, --eval-every and --batch-size must be at least 1")
    if minutes is not None and minutes <= 0:
        raise UserError("--minutes must be more than 0")
    if eval_minutes is not None and eval_minutes <= 0:
        raise UserError("--eval-minutes must be more than 0")
    every = eval_minutes * 60 if eval_minutes else float("inf")
    next_eval = every
    budget = minutes * 60 if minutes is not None else float("inf")
    start = time.perf_counter()
    counts = {"accept": 0, "reject": 0}
    kinds: dict[str, int] = {}
    kind_seconds: dict[str, float] = {}  # annotator seconds per question type, to print seconds per decision
    seconds = 0.0

    marks = sorted(m * 60 for m in train_at) if train is not None else []

    def record(n: int) -> dict[str, Any]:
        out = {"decisions": n, "seconds": round(seconds, 1), **evaluate(), **counts, "questions": dict(kinds),
               "question_seconds": {k: round(v, 1) for k, v in kind_seconds.items()}, "wall": round(time.perf_counter() - start, 2)}
        if marks and train is not None and n and (seconds >= marks[0] or n >= decisions or seconds >= budget):
            while marks and seconds >= marks[0]:
                marks.pop(0)
            out["train"] = train(list(db.get_answers("simulation")))
        return out

    # The server's settings (binanno.json, BINANNO_*), with this run's batch size.
    settings = resolve(cli={"batch_size": batch_size, **({"lookahead": lookahead} if lookahead is not None else {})})
    with tempfile.TemporaryDirectory(prefix="binanno-sim-") as tmp:
        db = Database(Path(tmp) / "simulation.db")
        controller = Controller({"dataset": "simulation", "stream": questions, "update": update}, db, settings)
        controller.start()
        try:
            yield record(0)
            n, recorded = 0, 0
            while n < decisions and seconds < budget:
                controller.wait_idle()
                tasks = controller.get_questions("annotator", wait=0)
                if not tasks:
                    break
                controller.wait_idle()  # while a person reads the questions, the look-ahead fills again
                answers: list[Task] = []
                for question in tasks:
                    answered, cost = annotate(question)
                    seconds += cost
                    counts[answered["answer"]] = counts.get(answered["answer"], 0) + 1
                    kind = str(question.get("_question", "binary"))  # type: ignore[misc]
                    kinds[kind] = kinds.get(kind, 0) + 1
                    kind_seconds[kind] = kind_seconds.get(kind, 0.0) + cost
                    answers.append(answered)
                    n += 1
                    done = n >= decisions or seconds >= budget
                    if n % eval_every == 0 or done or seconds >= next_eval:
                        while next_eval <= seconds:
                            next_eval += every
                        controller.receive_answers(answers, "annotator")
                        answers = []
                        controller.wait_idle()
                        yield record(n)
                        recorded = n
                    if done:
                        break
                if answers:
                    controller.receive_answers(answers, "annotator")
            if n != recorded:
                controller.wait_idle()
                yield record(n)
        finally:
            controller.close()
            if answers_path:
                lines = (json.dumps(task, ensure_ascii=False) + "\n" for task in db.get_answers("simulation"))
                Path(answers_path).write_text("".join(lines), encoding="utf8")
            db.close()


def unique(tasks: Iterable[Task]) -> Iterator[Task]:
    """Each input once, as the server's loaders read a source (a repeated text is one question)."""
    seen: set[int] = set()
    for task in tasks:
        if task["_input_hash"] not in seen:
            seen.add(task["_input_hash"])
            yield task


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
    minutes: float | None = None,
    train_at: Iterable[float] = (),
    base_model: str | None = None,
    anchors: float = 0.0,
    answers_path: str | None = None,
    eval_minutes: float | None = None,
    **sorter_options: Any,
) -> Iterator[dict[str, Any]]:
    """Simulate ``ner.teach`` (or manual annotation) on ``pool``, scoring on ``eval_set``.

    ``label_map`` maps each gold label to the model's label for it (identity for a new
    model). The annotator accepts a yes/no question when its span and label match a gold
    entity exactly and rejects it otherwise, accepts a verify question when the sentence's
    spans are exactly the gold ones, answers a correct question with the gold spans and a
    label-choice or boundary-fix card with the option that is a gold entity (else "none of these").
    Records carry ``p``, ``r``, ``f`` and ``labels`` (per gold label); with ``train_at``
    (minutes) and ``base_model`` (the MODEL the run started from), also ``train``: the same
    scores for a model trained with ``binanno train`` on the answers so far.
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
        out = {**{k: round(scores[k], 4) for k in "prf"},
               "labels": {back[label]: {k: round(v, 4) for k, v in s.items()} for label, s in scores["labels"].items()}}
        guard = getattr(model, "guard", None)
        if guard is not None:  # why a curve is flat: the weights served, updates undone, refits so far
            out["guard"] = {"held_out": len(guard.keys), "serving": guard.serving, "worse": round(guard.chances[1], 3),
                            "kept": guard.kept, "undone": guard.undone, "refits": model.refits.done}
        return out

    def shipped(answers: list[Task]) -> dict[str, Any]:
        import tempfile

        from .corpus import Corpus
        from .models.spacy_ner import SpacyNER
        from .trainer import train_pipeline

        corpus = Corpus(set(back))
        if not corpus.add("ner", answers):
            return {k: 0.0 for k in "prf"}  # nothing usable yet: what `binanno train` would refuse
        with tempfile.TemporaryDirectory(prefix="binanno-train-") as tmp:
            train_pipeline(corpus, tmp, base_model=base_model, eval_split=0.0, seed=seed)
            trained = SpacyNER.load(tmp, list(back))
            scores = ner_scores(eval_ents, trained.predict(eval_texts), list(back))
        return {k: round(scores[k], 4) for k in "prf"}

    train = shipped if train_at and base_model and not base_model.startswith("hf:") else None

    if strategy == "manual":
        # Whole sentences with all their (mapped) gold entities, as a full annotation.
        sentences = (cast(Task, {**t, "spans": copy.deepcopy(t["spans"]), "_complete": True, "_question": "manual"})
                     for t in gold)

        def by_hand(task: Task) -> tuple[Task, float]:
            return {**task, "answer": "accept"}, costs.manual(len(task["text"].split()), len(task["spans"]))

        return run(model.update, sentences, by_hand, evaluate, decisions, eval_every, batch_size, minutes,
                   train_at=train_at, train=train, answers_path=answers_path, eval_minutes=eval_minutes)

    def annotate(question: Task) -> tuple[Task, float]:
        truth = entities[question["_input_hash"]]
        spans = {(s["start"], s["end"], s.get("label", "")) for s in question.get("spans", [])}
        kind = question.get("_question", "binary")  # type: ignore[misc]
        n = len(question.get("tokens") or question["text"].split())
        if kind == "correct":
            gold_spans = [{"start": s, "end": e, "label": label} for s, e, label in sorted(truth)]
            return {**question, "spans": gold_spans, "answer": "accept"}, costs.correct(n, edits(spans, truth))  # type: ignore[typeddict-item]
        if kind == "verify":
            return {**question, "answer": "accept" if spans == truth else "reject"}, costs.verify(n)  # type: ignore[typeddict-item]
        if is_choice(question):
            options = [o for o in question["options"] if o["id"] != NONE]  # type: ignore[typeddict-item]
            right = [o["id"] for o in options
                     if any((p["start"], p["end"], p["label"]) in truth for p in option_spans(dict(question), o))]
            return {**question, "answer": "accept", "accept": right[:1] or [NONE]}, costs.choice(len(options) + 1)  # type: ignore[typeddict-item]
        return {**question, "answer": "accept" if spans <= truth else "reject"}, costs.decision  # type: ignore[typeddict-item]

    texts = ({"text": t["text"]} for t in gold)
    stream = unique(set_hashes(t) for t in texts)  # type: ignore[arg-type]
    if strategy in QUESTION_STRATEGIES or anchors:
        planner = QuestionPlanner(model, "binary" if strategy == "uncertain" else strategy, costs, anchors=anchors)

        def learn(batch: list[Task]) -> Any:
            planner.observe(batch)
            return model.update(expand(batch))  # choice cards as the yes/no answers they stand for

        rescorer = Rescorer(planner, learn)
        questions = sort_by(planner(stream), lambda rate: rate, sorter, **{"seed": seed, "rescore": rescorer, **sorter_options})
    else:
        rescorer = Rescorer(model, model.update)
        questions = ordered(model(stream), strategy, rng, sorter, **{"seed": seed, "rescore": rescorer, **sorter_options})
    return run(rescorer.update, questions, annotate, evaluate, decisions, eval_every, batch_size, minutes,
               train_at=train_at, train=train, answers_path=answers_path, eval_minutes=eval_minutes)


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
    minutes: float | None = None,
    answers_path: str | None = None,
    eval_minutes: float | None = None,
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

    def annotate(question: Task) -> tuple[Task, float]:
        answer = "accept" if question["label"] in truth[question["_input_hash"]] else "reject"
        return {**question, "answer": answer}, costs.decision  # type: ignore[typeddict-item]

    stream = unique({"text": examples[i]["text"], "_input_hash": examples[i]["_input_hash"]} for i in order)
    rescorer = Rescorer(model, model.update, getattr(model, "question_scores", None))
    questions = ordered(model(stream), strategy, rng, sorter, **{"seed": seed, "rescore": rescorer, **sorter_options})  # type: ignore[arg-type]
    return run(rescorer.update, questions, annotate, evaluate, decisions, eval_every, batch_size, minutes,
               answers_path=answers_path, eval_minutes=eval_minutes)
