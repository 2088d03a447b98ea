"""textcat.teach end to end: the real command and server, the sklearn backend, a real SQLite file."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import run_cli, write_jsonl
from fixtures_textcat import HAM, SPAM

from binanno.models.backends import load_textcat
from binanno.models.textcat_sklearn import SklearnTextcat

pytestmark = pytest.mark.slow

MORE_SPAM = ["Free tickets to win, text CLAIM now", "Cash prize: call now to claim your free reward",
             "You won a free cruise, reply WIN", "Claim your free gift card today"]
MORE_HAM = ["Running late, see you at the station", "What time is dinner tonight?",
            "Call me when you get home", "Happy birthday, see you at the party"]
TEXTS = SPAM + HAM + MORE_SPAM + MORE_HAM
IS_SPAM = set(SPAM + MORE_SPAM)


def wait_for_updates(url: str, n: int) -> dict[str, Any]:
    for _ in range(300):
        status = httpx.get(url + "/status").json()["status"]
        if status["updates"] >= n and status["pending_updates"] == 0:
            return status
        time.sleep(0.1)
    raise AssertionError(f"no {n} updates: {status}")


def truth(task: dict[str, Any]) -> str:
    return "accept" if (task["label"] == "SPAM") == (task["text"] in IS_SPAM) else "reject"


def test_teach_asks_per_text_and_label_learns_and_saves(start_server: Any, tmp_path: Path, home: Path) -> None:
    source = write_jsonl(tmp_path / "source.jsonl", [{"text": t} for t in TEXTS])
    output = tmp_path / "model"
    server = start_server("textcat.teach", "spam", "sklearn", str(source), "--label", "SPAM,HAM", "--output", str(output))
    asked: list[tuple[int, str]] = []
    scores: list[float] = []
    rounds = 0
    for round_ in range(4):
        tasks = server.questions()
        if not tasks:  # the filter skips questions the updated model is sure of: a small source can run out
            break
        rounds += 1
        for task in tasks:
            assert task["label"] in ("SPAM", "HAM") and "spans" not in task and task["text"] in TEXTS
            assert 0.0 <= task["meta"]["score"] <= 1.0 and "_task_hash" in task
            asked.append((task["_input_hash"], task["label"]))
            scores.append(task["meta"]["score"])
        server.post("/give_answers", {"answers": [{**t, "answer": truth(t)} for t in tasks], "session_id": None})
        wait_for_updates(server.url, round_ + 1)
    assert rounds >= 2 and len(asked) == len(set(asked))  # one question per (text, label)
    assert scores[0] == 0.5  # a new sklearn model knows nothing
    output_text = server.stop()
    assert "Saved the updated model" in output_text

    model = load_textcat(str(output), ["SPAM", "HAM"])
    assert isinstance(model, SklearnTextcat)
    spam, ham = model.predict(["Claim your free prize now", "See you at dinner tonight"])
    assert spam["SPAM"] > ham["SPAM"] and ham["HAM"] > spam["HAM"]

    out = run_cli("db-out", "spam", "--db", str(server.db), home=home)
    stored = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    assert len(stored) == len(asked) and {s["answer"] for s in stored} == {"accept", "reject"}
    assert all(s["label"] in ("SPAM", "HAM") for s in stored)


def test_exclusive_accepts_teach_the_other_label_too(start_server: Any, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "source.jsonl", [{"text": t} for t in TEXTS])
    output = tmp_path / "model"
    server = start_server("textcat.teach", "excl", "sklearn", str(source), "--label", "SPAM,HAM", "--exclusive",
                          "--output", str(output))
    answered = 0
    for round_ in range(3):
        tasks = server.questions()
        if not tasks:  # the filter skips what the updated model is sure of: a small source can run out
            break
        # Only ever answer SPAM questions: HAM learns from them through exclusivity.
        answers = [{**t, "answer": truth(t)} for t in tasks if t["label"] == "SPAM"]
        answers += [{**t, "answer": "ignore"} for t in tasks if t["label"] != "SPAM"]
        server.post("/give_answers", {"answers": answers, "session_id": None})
        answered += sum(a["answer"] != "ignore" for a in answers)
        wait_for_updates(server.url, round_ + 1)
    server.stop()
    assert answered
    model = load_textcat(str(output), ["SPAM", "HAM"], exclusive=True)
    spam, ham = model.predict(["Claim your free prize now", "See you at dinner tonight"])
    assert ham["HAM"] > spam["HAM"]  # never answered about HAM directly
    assert json.loads((output / "binanno_textcat.json").read_text())["exclusive"] is True


def test_patterns_seed_the_first_questions(start_server: Any, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "source.jsonl", [{"text": t} for t in HAM + SPAM])
    patterns = write_jsonl(tmp_path / "patterns.jsonl", [{"label": "SPAM", "pattern": [{"LOWER": "free"}]}])
    server = start_server("textcat.teach", "seeded", "sklearn", str(source), "--label", "SPAM", "--patterns", str(patterns))
    tasks = server.questions()
    matched = [t for t in tasks if "pattern" in t["meta"]]
    assert matched and all("free" in t["text"].lower() and t["label"] == "SPAM" for t in matched)
    assert all(t["spans"][0]["label"] == "SPAM" for t in matched)
    pairs = [(t["_input_hash"], t["label"]) for t in tasks]
    assert len(pairs) == len(set(pairs))  # the pattern's question replaces the model's about the same text
    server.answer(matched, "accept")
    wait_for_updates(server.url, 1)


@pytest.mark.parametrize("args, message", [
    (["foo:bar", "--label", "SPAM"], "Unknown model prefix 'foo:'"),
    (["sklearn", "--label", "SPAM", "--exclusive"], "--exclusive needs at least two labels"),
    (["sklearn"], "Pass the labels to ask about"),
])
def test_bad_arguments_are_one_line_errors(args: list[str], message: str, home: Path, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "s.jsonl", [{"text": "hello"}])
    result = run_cli("textcat.teach", "ds", args[0], str(source), *args[1:], "--db", str(tmp_path / "x.db"), home=home)
    assert result.returncode == 1 and message in result.stderr
    assert "Traceback" not in result.stderr and result.stderr.strip().count("\n") == 0


def test_patterns_propose_only_until_the_label_has_both_answers(tmp_path: Path) -> None:
    from binanno.components.sorters import is_pattern, pool_sort, uncertainty
    from recipes.textcat import LabelPatterns

    patterns = write_jsonl(tmp_path / "patterns.jsonl", [{"label": "SPAM", "pattern": [{"LOWER": "free"}]}])
    proposer = LabelPatterns(str(patterns), ["SPAM"])
    stream = [{"text": t} for t in SPAM + MORE_SPAM + HAM]
    first = [q for _, q in proposer(stream[:4])]
    assert first and all(is_pattern(q) for q in first)
    proposer.update([{**first[0], "answer": "accept"}])  # one class: still cold, still proposing
    assert [q for _, q in proposer(stream[4:8])]
    proposer.update([{**first[1], "answer": "reject"}])  # both: the model can be fitted now
    assert list(proposer(stream)) == []
    # What it handed out no longer jumps the queue: a sorter given it back ranks it by its score.
    assert not any(is_pattern(q) for q in first)
    sorter = pool_sort(iter([(0.5, {"text": "model question", "_task_hash": 1})]), uncertainty)
    sorter.give_back([{**first[2], "meta": {**first[2]["meta"], "score": 0.01}}])
    assert next(sorter)["text"] == "model question"
