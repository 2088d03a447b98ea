"""Simulations on a small trained NER: records, the simulated annotator, and the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import run_cli
from fixtures_ner import LABELS, make_sentences, trained_ner_dir

from binanno.errors import UserError
from binanno.models.spacy_ner import SpacyNER
from binanno.simulation import Costs, map_gold, run, simulate_ner


def gold_tasks(n: int, seed: int) -> list[dict[str, Any]]:
    return [{"text": t, "spans": [{"start": s, "end": e, "label": lab} for s, e, lab in ents]} for t, ents in make_sentences(n, seed)]


def write_conll(path: Path, tasks: list[dict[str, Any]]) -> Path:
    """Tasks as BIO CoNLL, one space-separated token per line (the texts have no double spaces)."""
    lines = []
    for task in tasks:
        offset = 0
        for token in task["text"].split(" "):
            start, end = offset, offset + len(token)
            offset = end + 1
            tag = "O"
            for s in task["spans"]:
                if s["start"] <= start and end <= s["end"]:
                    tag = ("B-" if start == s["start"] else "I-") + s["label"]
            lines.append(f"{token}\t{tag}")
        lines.append("")
    path.write_text("\n".join(lines) + "\n")
    return path


class Recorder:
    """Wraps a model to see every batch the simulation gives it."""

    def __init__(self, model: SpacyNER) -> None:
        self.model, self.batches = model, []

    def __call__(self, stream: Any) -> Any:
        return self.model(stream)

    def score_sentences(self, stream: Any) -> Any:
        return self.model.score_sentences(stream)

    def candidate_scores(self, found: Any, matches: Any) -> Any:
        return self.model.candidate_scores(found, matches)

    def update(self, answers: list[Any]) -> Any:
        self.batches.append(answers)
        return self.model.update(answers)

    def predict(self, texts: list[str]) -> Any:
        return self.model.predict(texts)


def test_uncertain_simulation_answers_from_gold_and_records_every_k() -> None:
    pool, eval_set = gold_tasks(40, seed=1), gold_tasks(20, seed=2)
    model = Recorder(SpacyNER.load(str(trained_ner_dir()), LABELS))
    identity = {label: label for label in LABELS}
    records = list(simulate_ner(model, pool, eval_set, identity, "uncertain", decisions=25, eval_every=10, seed=0,
                                costs=Costs(decision=2.0), batch_size=5))
    assert [r["decisions"] for r in records] == [0, 10, 20, 25]
    assert [r["seconds"] for r in records] == [0, 20, 40, 50]
    assert records[0]["accept"] == records[0]["reject"] == 0 and records[-1]["accept"] + records[-1]["reject"] == 25
    assert set(records[-1]["labels"]) == set(LABELS) and all(0 <= r["f"] <= 1 for r in records)
    # Batches of at most 5, one span per question, answered exactly from gold.
    answers = [a for batch in model.batches for a in batch]
    assert len(answers) == 25 and max(len(b) for b in model.batches) <= 5
    gold = {t["text"]: {(s["start"], s["end"], s["label"]) for s in t["spans"]} for t in pool}
    for a in answers:
        (span,) = a["spans"]
        assert a["answer"] == ("accept" if (span["start"], span["end"], span["label"]) in gold[a["text"]] else "reject")
    assert len({a["_task_hash"] for a in answers}) == 25  # never the same question twice


def test_manual_annotates_whole_sentences_and_the_label_map_renames() -> None:
    pool, eval_set = gold_tasks(30, seed=3), gold_tasks(10, seed=4)
    gold_pool = [{**t, "spans": [{**s, "label": {"PERSON": "PER", "ORG": "ORG"}[s["label"]]} for s in t["spans"]]} for t in pool]
    model = Recorder(SpacyNER.load(str(trained_ner_dir()), LABELS))
    records = list(simulate_ner(model, gold_pool, eval_set, {"PER": "PERSON", "ORG": "ORG"}, "manual", decisions=12,
                                eval_every=6, seed=0, batch_size=4))
    answers = [a for batch in model.batches for a in batch]
    # Each sentence costs the card, its tokens and its entities (binanno.learning.costs).
    costs = [Costs().manual(len(a["text"].split()), len(a["spans"])) for a in answers]
    assert [r["seconds"] for r in records] == [0, round(sum(costs[:6]), 1), round(sum(costs), 1)]
    assert all(a["_complete"] and a["answer"] == "accept" for a in answers)
    assert {s["label"] for a in answers for s in a["spans"]} == {"PERSON", "ORG"}
    assert set(records[-1]["labels"]) == {"PER", "ORG"}  # reported under the gold names


def test_a_model_that_learns_from_the_simulation_gets_better() -> None:
    # The tiny model has seen these templates; a fresh blank NER has not, and learns them.
    pool, eval_set = gold_tasks(120, seed=5), gold_tasks(30, seed=6)
    model = SpacyNER.load("blank:en", LABELS, seed=0)
    records = list(simulate_ner(model, pool, eval_set, {lab: lab for lab in LABELS}, "manual", decisions=100, eval_every=100,
                                batch_size=2))
    assert records[0]["f"] < 0.2 and records[-1]["f"] > 0.6


def test_random_strategy_asks_the_same_candidates_in_another_order() -> None:
    pool, eval_set = gold_tasks(8, seed=7), gold_tasks(4, seed=8)
    asked = {}
    for strategy in ("uncertain", "random"):
        model = Recorder(SpacyNER.load(str(trained_ner_dir()), LABELS, learn_rate=1e-9))  # (practically) no learning
        list(simulate_ner(model, pool, eval_set, {lab: lab for lab in LABELS}, strategy, decisions=10_000, eval_every=1000))
        asked[strategy] = [a["_task_hash"] for batch in model.batches for a in batch]
    assert sorted(asked["uncertain"]) == sorted(asked["random"]) and asked["uncertain"] != asked["random"]


def test_bad_arguments_are_user_errors() -> None:
    model = SpacyNER.load(str(trained_ner_dir()), LABELS)
    with pytest.raises(UserError, match="Unknown strategy"):
        simulate_ner(model, [], [], {}, "clever")
    with pytest.raises(UserError, match="at least 1"):
        next(run(model.update, [], lambda t: (t, 1.0), dict, decisions=0, eval_every=1))
    with pytest.raises(UserError, match="--minutes"):
        next(run(model.update, [], lambda t: (t, 1.0), dict, decisions=1, eval_every=1, minutes=0))
    assert map_gold([{"text": "a b", "spans": [{"start": 0, "end": 1, "label": "X"}]}], {})[0]["spans"] == []


def test_ner_simulate_cli_writes_curve_and_plot(tmp_path: Path) -> None:
    pool = write_conll(tmp_path / "pool.conll", gold_tasks(30, seed=9))
    eval_file = write_conll(tmp_path / "eval.conll", gold_tasks(10, seed=10))
    curve, png, answers = tmp_path / "curve.jsonl", tmp_path / "curve.png", tmp_path / "answers.jsonl"
    result = run_cli("ner.simulate", str(trained_ner_dir()), str(pool), str(eval_file), "--label", "PER,ORG",
                     "--label-map", "PER=PERSON", "--strategy", "uncertain", "--decisions", "20", "--eval-every", "10",
                     "--seed", "1", "--output", str(curve), "--plot", str(png), "--answers", str(answers), home=tmp_path)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in curve.read_text().splitlines()]
    assert [r["decisions"] for r in records] == [0, 10, 20] and records[0]["strategy"] == "uncertain"
    # Every decision the simulated annotator made, as stored answers `db-in` and `train` read.
    stored = [json.loads(line) for line in answers.read_text().splitlines()]
    assert len(stored) == 20 and sum(a["answer"] == "accept" for a in stored) == records[-1]["accept"]
    assert all(a["answer"] in ("accept", "reject") and "_task_hash" in a and a["spans"] for a in stored)
    assert set(records[0]["labels"]) == {"PER", "ORG"}
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert "decisions" in result.stdout and result.stdout.count("\n") >= 4
    # Several curves on one plot.
    both = tmp_path / "both.png"
    result = run_cli("plot", str(both), f"{curve},{curve}", home=tmp_path)
    assert result.returncode == 0 and both.exists(), result.stderr


@pytest.mark.parametrize("args, message", [
    (["--label-map", "PER"], "GOLD=MODEL"),
    (["--label-map", "LOC=GPE"], "not in --label"),
    (["--strategy", "clever"], "invalid choice"),
    (["--plot", "x.png"], "pass --output"),
])
def test_ner_simulate_cli_bad_input(tmp_path: Path, args: list[str], message: str) -> None:
    pool = write_conll(tmp_path / "pool.conll", gold_tasks(3, seed=11))
    result = run_cli("ner.simulate", str(trained_ner_dir()), str(pool), str(pool), "--label", "PER,ORG", *args, home=tmp_path)
    assert result.returncode != 0 and message in result.stderr and "Traceback" not in result.stderr


def test_sentence_questions_are_answered_with_the_gold_and_cost_by_their_edits() -> None:
    pool, eval_set = gold_tasks(20, seed=13), gold_tasks(5, seed=14)
    truth = {t["text"]: {(s["start"], s["end"], s["label"]) for s in t["spans"]} for t in pool}
    for strategy in ("correct", "verify"):
        model = Recorder(SpacyNER.load(str(trained_ner_dir()), LABELS))
        records = list(simulate_ner(model, pool, eval_set, {lab: lab for lab in LABELS}, strategy, decisions=8,
                                    eval_every=4, batch_size=4))
        answers = [a for batch in model.batches for a in batch]
        assert len(answers) == 8 and all(a["_question"] == strategy and a["_complete"] for a in answers)
        assert records[-1]["questions"] == {strategy: 8}
        assert records[-1]["question_seconds"][strategy] == pytest.approx(records[-1]["seconds"], abs=0.2)
        for a in answers:
            spans = {(s["start"], s["end"], s["label"]) for s in a["spans"]}
            if strategy == "correct":  # the annotator's answer is the gold
                assert a["answer"] == "accept" and spans == truth[a["text"]]
            else:  # accepted exactly when the model's analysis is the gold
                assert a["answer"] == ("accept" if spans == truth[a["text"]] else "reject")
        # The model knows these templates, so most verify questions are accepted, and
        # corrections cost little more than reading.
        n = sum(len(a["tokens"]) for a in answers)
        assert records[-1]["seconds"] >= 8 * Costs().base + n * Costs().token


def test_minutes_budget_stops_the_run() -> None:
    pool, eval_set = gold_tasks(40, seed=15), gold_tasks(5, seed=16)
    model = SpacyNER.load(str(trained_ner_dir()), LABELS)
    records = list(simulate_ner(model, pool, eval_set, {lab: lab for lab in LABELS}, "uncertain", decisions=1000,
                                eval_every=5, minutes=0.5, costs=Costs(decision=3.0)))
    assert records[-1]["seconds"] == 30.0 and records[-1]["decisions"] == 10


def test_eval_minutes_scores_the_model_as_often_in_annotator_time_whatever_the_question() -> None:
    pool, eval_set = gold_tasks(40, seed=15), gold_tasks(5, seed=16)
    model = SpacyNER.load(str(trained_ner_dir()), LABELS)
    records = list(simulate_ner(model, pool, eval_set, {lab: lab for lab in LABELS}, "uncertain", decisions=1000,
                                eval_every=1000, minutes=1.0, eval_minutes=0.25, costs=Costs(decision=4.0)))
    # 4 s a decision: a record at each quarter minute passed (16, 32, 48 s), and the last at 60 s.
    assert [r["seconds"] for r in records] == [0.0, 16.0, 32.0, 48.0, 60.0]
    with pytest.raises(UserError, match="--eval-minutes"):
        next(run(model.update, [], lambda t: (t, 1.0), dict, decisions=1, eval_every=1, eval_minutes=0))


def test_train_at_scores_the_model_binanno_train_makes_from_the_answers_so_far(tmp_path: Path) -> None:
    pool = write_conll(tmp_path / "pool.conll", gold_tasks(40, seed=17))
    eval_file = write_conll(tmp_path / "eval.conll", gold_tasks(10, seed=18))
    curve = tmp_path / "curve.jsonl"
    result = run_cli("ner.simulate", "blank:en", str(pool), str(eval_file), "--label", "PERSON,ORG", "--strategy", "manual",
                     "--decisions", "30", "--eval-every", "10", "--train-at", "1,3", "--output", str(curve), home=tmp_path)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in curve.read_text().splitlines()]
    trained = [r for r in records if "train" in r]
    # The first record at or after each mark (and never the starting model).
    assert trained and all(r["decisions"] > 0 for r in trained) and len(trained) <= 2
    assert trained[0]["seconds"] >= 60 and set(trained[-1]["train"]) == {"p", "r", "f"}
    # 30 whole sentences, 10 passes: the shipped model knows these templates.
    assert trained[-1]["train"]["f"] > 0.5 and "train F" in result.stdout
    bad = run_cli("ner.simulate", "blank:en", str(pool), str(eval_file), "--label", "PERSON", "--train-at", "soon", home=tmp_path)
    assert bad.returncode != 0 and "--train-at takes minutes" in bad.stderr and "Traceback" not in bad.stderr


def test_ner_records_say_what_the_update_guard_did() -> None:
    pool, eval_set = gold_tasks(40, seed=1), gold_tasks(20, seed=2)
    model = SpacyNER.load(str(trained_ner_dir()), LABELS, guard_every=2, refit=8)
    identity = {label: label for label in LABELS}
    records = list(simulate_ner(model, pool, eval_set, identity, "manual", decisions=20, eval_every=10, seed=0, batch_size=5))
    last = records[-1]["guard"]
    # Every other complete sentence held out (10 of 20), refits at 8 and 16 texts; honest answers on
    # templates the start already gets right: no update is shown worse, each is served.
    assert last["held_out"] == 10 and (last["kept"], last["undone"]) == (model.guard.kept, model.guard.undone)
    assert last["serving"] == model.guard.serving == "learner" and last["kept"] > 0 and last["worse"] < 0.95
    assert last["refits"] == model.refits.done >= 1
    assert records[0]["guard"] == {"held_out": 0, "serving": "learner", "worse": 0.0, "kept": 0, "undone": 0, "refits": 0}
