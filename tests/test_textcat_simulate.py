"""textcat.simulate: simulate_textcat's records and annotator, and the CLI, with the sklearn backend."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from conftest import run_cli, write_jsonl
from fixtures_textcat import HAM, SPAM, spam_answers

from binanno.errors import UserError
from binanno.models.textcat_sklearn import SklearnTextcat
from binanno.simulation import Costs, simulate_textcat

NEUTRAL = ["The train leaves at half past nine", "Our team meeting moved to room four", "The library closes early on Sunday"]


def examples(n: int, seed: int) -> list[dict[str, Any]]:
    """Made-up texts: spam (accept SPAM), ham (accept HAM) and neutral (neither), each made unique."""
    rng = random.Random(seed)
    groups = [(SPAM, ["SPAM"]), (HAM, ["HAM"]), (NEUTRAL, [])]
    out = []
    for i in range(n):
        texts, accept = groups[i % 3]
        out.append({"text": f"{rng.choice(texts)} #{seed}-{i}", "accept": list(accept)})
    return out


class Recorder:
    """Wraps a model to see every batch of answers the simulation gives it; ``frozen`` skips learning."""

    def __init__(self, model: SklearnTextcat, frozen: bool = False) -> None:
        self.model, self.frozen, self.batches = model, frozen, []

    def __call__(self, stream: Any) -> Any:
        return self.model(stream)

    def update(self, answers: list[Any]) -> Any:
        self.batches.append(answers)
        return None if self.frozen else self.model.update(answers)

    def predict(self, texts: list[str]) -> Any:
        return self.model.predict(texts)

    def answers(self) -> list[dict[str, Any]]:
        return [a for batch in self.batches for a in batch]


def new_model(labels: list[str] | None = None) -> SklearnTextcat:
    return SklearnTextcat.load("sklearn", labels or ["SPAM", "HAM"], seed=0)


def test_records_every_k_from_zero_with_annotator_seconds() -> None:
    pool, eval_set = examples(30, seed=1), examples(12, seed=2)
    model = Recorder(new_model())
    records = list(simulate_textcat(model, pool, eval_set, ["SPAM", "HAM"], "uncertain", decisions=25, eval_every=10,
                                    seed=0, costs=Costs(decision=2.0), batch_size=5))
    assert [r["decisions"] for r in records] == [0, 10, 20, 25]
    assert [r["seconds"] for r in records] == [0, 20, 40, 50]
    assert records[0]["accept"] == records[0]["reject"] == 0 and records[-1]["accept"] + records[-1]["reject"] == 25
    # The first record is the untouched model: every label at exactly 0.5, so no ranking at all.
    assert records[0]["labels"]["SPAM"]["auc"] == records[0]["labels"]["HAM"]["auc"] == 0.5
    for r in records:
        assert set(r) >= {"accuracy", "p", "r", "f", "labels", "wall"} and set(r["labels"]) == {"SPAM", "HAM"}
        assert all(0 <= r[k] <= 1 for k in ("accuracy", "p", "r", "f"))
    assert len(model.answers()) == 25 and max(len(b) for b in model.batches) <= 5


def test_the_annotator_accepts_exactly_the_labels_an_example_has() -> None:
    pool = examples(30, seed=3)
    model = Recorder(new_model())
    list(simulate_textcat(model, pool, examples(6, seed=4), ["SPAM", "HAM"], "random", decisions=10_000, eval_every=1000))
    gold = {t["text"]: set(t["accept"]) for t in pool}
    answers = model.answers()
    assert len(answers) == 60  # every (text, label) pair once: 30 texts, 2 labels, then the questions ran out
    assert len({(a["text"], a["label"]) for a in answers}) == 60
    for a in answers:
        assert a["answer"] == ("accept" if a["label"] in gold[a["text"]] else "reject")
    # Neutral texts are rejected for both labels: the labels are not read as exclusive.
    assert sum(a["answer"] == "accept" for a in answers) == 20


def test_questions_running_out_end_with_a_record_and_duplicates_are_asked_once() -> None:
    pool = examples(7, seed=5)
    pool.append(dict(pool[0]))  # the same text again: the same questions, skipped as the server would
    model = Recorder(new_model(["SPAM"]))
    records = list(simulate_textcat(model, pool, examples(6, seed=6), ["SPAM"], "uncertain", decisions=100, eval_every=3))
    assert [r["decisions"] for r in records] == [0, 3, 6, 7]
    assert len(model.answers()) == 7


def test_uncertain_and_random_ask_the_same_questions_in_different_orders() -> None:
    pool, eval_set = examples(30, seed=7), examples(6, seed=8)
    asked = {}
    for strategy in ("uncertain", "random"):
        model = Recorder(new_model())
        list(simulate_textcat(model, pool, eval_set, ["SPAM", "HAM"], strategy, decisions=10_000, eval_every=1000, seed=0))
        asked[strategy] = [(a["text"], a["label"]) for a in model.answers()]
    assert sorted(asked["uncertain"]) == sorted(asked["random"]) and asked["uncertain"] != asked["random"]


def test_uncertain_asks_scores_near_one_half_first() -> None:
    trained = new_model(["SPAM"])
    trained.update(spam_answers("SPAM"))
    firsts = {}
    for strategy in ("uncertain", "random"):
        model = Recorder(trained, frozen=True)  # the same scores for both orders
        list(simulate_textcat(model, examples(60, seed=9), examples(3, seed=10), ["SPAM"], strategy, decisions=10, eval_every=10))
        firsts[strategy] = sum(abs(a["meta"]["score"] - 0.5) for a in model.answers()) / 10
    assert firsts["uncertain"] < firsts["random"]


def test_the_same_seed_gives_the_same_curve() -> None:
    pool, eval_set = examples(30, seed=11), examples(12, seed=12)

    def curve(seed: int) -> list[tuple[float, float]]:
        records = simulate_textcat(new_model(), pool, eval_set, ["SPAM", "HAM"], "random", decisions=30, eval_every=10, seed=seed)
        return [(r["f"], r["accept"]) for r in records]

    assert curve(0) == curve(0)


def test_a_new_model_learns_from_the_simulation() -> None:
    pool, eval_set = examples(150, seed=13), examples(60, seed=14)
    records = list(simulate_textcat(new_model(["SPAM"]), pool, eval_set, ["SPAM"], "uncertain", decisions=60, eval_every=60))
    assert records[0]["labels"]["SPAM"]["f"] < 0.6 and records[-1]["labels"]["SPAM"]["f"] > 0.9


@pytest.mark.parametrize("strategy", ["manual", "clever"])
def test_unknown_strategies_are_user_errors(strategy: str) -> None:
    with pytest.raises(UserError, match="use uncertain or random"):
        simulate_textcat(new_model(), examples(3, seed=0), [], ["SPAM"], strategy)


# The CLI ----------------------------------------------------------------------------------


def write_tsv(path: Path, rows: list[dict[str, Any]]) -> Path:
    """``label<TAB>text`` lines, as the SMS Spam Collection; texts with no label are left out."""
    path.write_text("".join(f"{r['accept'][0]}\t{r['text']}\n" for r in rows if r["accept"]), encoding="utf8")
    return path


def test_textcat_simulate_cli_reads_tsv_and_jsonl_and_writes_curve_and_plot(tmp_path: Path) -> None:
    pool = write_tsv(tmp_path / "SMSSpamCollection", examples(45, seed=15))
    eval_rows = [{"text": r["text"], "label": r["accept"][0]} if r["accept"] else {"text": r["text"]} for r in examples(15, seed=16)]
    eval_file = write_jsonl(tmp_path / "eval.jsonl", eval_rows)
    curve, png = tmp_path / "curve.jsonl", tmp_path / "curve.png"
    result = run_cli("textcat.simulate", "sklearn", str(pool), str(eval_file), "--label", "SPAM", "--strategy", "random",
                     "--decisions", "20", "--eval-every", "10", "--seed", "3", "--decision-cost", "1.5",
                     "--output", str(curve), "--plot", str(png), home=tmp_path)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in curve.read_text().splitlines()]
    assert [r["decisions"] for r in records] == [0, 10, 20] and [r["seconds"] for r in records] == [0, 15, 30]
    assert {(r["strategy"], r["seed"], r["model"]) for r in records} == {("random", 3, "sklearn")}
    assert set(records[-1]["labels"]) == {"SPAM"} and records[-1]["labels"]["SPAM"]["auc"] is not None
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert "decisions" in result.stdout and result.stdout.count("\n") >= 4


def test_textcat_simulate_cli_knows_the_pool_s_labels(tmp_path: Path) -> None:
    pool = write_tsv(tmp_path / "pool.tsv", examples(9, seed=17))
    result = run_cli("textcat.simulate", "sklearn", str(pool), str(pool), "--label", "spam", home=tmp_path)
    assert result.returncode != 0 and "'spam'" in result.stderr and "HAM, SPAM" in result.stderr


@pytest.mark.parametrize("args, message", [
    (["--label", "SPAM", "--strategy", "manual"], "no manual strategy"),
    (["--label", "SPAM", "--strategy", "clever"], "invalid choice"),
    (["--label", "SPAM", "--plot", "x.png"], "pass --output"),
    (["--label", "SPAM", "--exclusive"], "at least two labels"),
    ([], "Pass the labels"),
])
def test_textcat_simulate_cli_bad_input(tmp_path: Path, args: list[str], message: str) -> None:
    pool = write_tsv(tmp_path / "pool.tsv", examples(6, seed=18))
    result = run_cli("textcat.simulate", "sklearn", str(pool), str(pool), *args, home=tmp_path)
    assert result.returncode != 0 and message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 or message == "invalid choice"  # argparse adds its usage line


@pytest.mark.parametrize("which", [0, 1])
def test_textcat_simulate_cli_missing_file(tmp_path: Path, which: int) -> None:
    pool = write_tsv(tmp_path / "pool.tsv", examples(6, seed=19))
    files = [str(pool), str(pool)]
    files[which] = str(tmp_path / "missing.jsonl")
    result = run_cli("textcat.simulate", "sklearn", *files, "--label", "SPAM", home=tmp_path)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [f"✘ Can't find gold file '{files[which]}': check the path"]


def test_textcat_defaults_to_the_pool_sorter_that_won_its_benchmark(tmp_path: Path) -> None:
    pool = write_jsonl(tmp_path / "pool.jsonl", examples(90, seed=20))
    eval_file = write_jsonl(tmp_path / "eval.jsonl", examples(15, seed=21))

    def asked(*sorter: str) -> list[tuple[int, int]]:
        curve = tmp_path / f"curve{'-'.join(sorter)}.jsonl"
        result = run_cli("textcat.simulate", "sklearn", str(pool), str(eval_file), "--label", "SPAM,HAM", "--decisions", "40",
                         "--eval-every", "5", *sorter, "--output", str(curve), home=tmp_path)
        assert result.returncode == 0, result.stderr
        return [(r["accept"], r["reject"]) for r in map(json.loads, curve.read_text().splitlines())]

    default = asked()
    assert default == asked("--sorter", "pool") and default != asked("--sorter", "ema")
