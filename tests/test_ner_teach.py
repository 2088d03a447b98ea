"""ner.teach and train end to end: the real command, a real small spaCy model, a real SQLite file."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import ROOT, SAMPLE_TEXTS, run_cli, write_jsonl
from fixtures_ner import make_sentences, trained_ner_dir

pytestmark = pytest.mark.slow


def gold_answer(task: dict[str, Any], gold: dict[str, set[tuple[int, int, str]]]) -> str:
    span = task["spans"][0]
    return "accept" if (span["start"], span["end"], span["label"]) in gold[task["text"]] else "reject"


def wait_for_updates(url: str, n: int) -> dict[str, Any]:
    for _ in range(300):
        status = httpx.get(url + "/status").json()["status"]
        if status["updates"] >= n and status["pending_updates"] == 0:
            return status
        time.sleep(0.1)
    raise AssertionError(f"no {n} updates: {status}")


def test_teach_learn_save_and_train(start_server: Any, tmp_path: Path, home: Path) -> None:
    sentences = make_sentences(40, seed=7)
    gold = {text: set(ents) for text, ents in sentences}
    source = write_jsonl(tmp_path / "source.jsonl", [{"text": text} for text, _ in sentences])
    output = tmp_path / "updated"
    server = start_server("ner.teach", "people", str(trained_ner_dir()), str(source), "--label", "PERSON,ORG",
                          "--output", str(output), "--unsegmented", "--question", "binary")
    answered = 0
    for _ in range(3):
        tasks = server.questions()
        assert tasks
        for task in tasks:
            assert len(task["spans"]) == 1 and task["spans"][0]["label"] in ("PERSON", "ORG")
            assert 0.0 <= task["meta"]["score"] <= 1.0 and "_task_hash" in task and "_input_hash" in task
        reply = server.post("/give_answers", {"answers": [{**t, "answer": gold_answer(t, gold)} for t in tasks], "session_id": None})
        answered += len(tasks)
        assert reply["status"]["answered"] == answered
    status = wait_for_updates(server.url, 3)
    assert status["model_accuracy"] is not None and status["model_accuracy_n"] == answered
    assert httpx.get(server.url + "/status").json()["progress"] is not None
    output_text = server.stop()
    assert "Saved the updated model" in output_text

    import spacy

    nlp = spacy.load(output)
    assert {"PERSON", "ORG"} <= set(nlp.get_pipe("ner").labels)
    doc = nlp("Yesterday Alice Smith joined Acme Corp in town.")
    assert [(e.text, e.label_) for e in doc.ents]  # the saved model still predicts

    stats = run_cli("stats", "people", "--db", str(server.db), home=home)
    assert "model right at question time" in stats.stdout

    trained = tmp_path / "trained"
    result = run_cli("train", str(trained), "--ner", "people", "--db", str(server.db), "--eval-split", "0.3", home=home)
    assert result.returncode == 0, result.stderr
    assert "PERSON" in result.stdout and "micro" in result.stdout
    assert spacy.load(trained).get_pipe("ner").labels


def test_blank_model_with_patterns_asks_about_matches(start_server: Any) -> None:
    server = start_server("ner.teach", "cold", "blank:en", str(SAMPLE_TEXTS), "--label", "PERSON,ORG",
                          "--patterns", str(ROOT / "binanno" / "data" / "patterns.jsonl"))
    tasks = server.questions()
    # A new NER proposes little of use; the pattern matches must not be starved by the sorter.
    assert sum("pattern" in t["meta"] for t in tasks) >= 3
    assert {t["spans"][0]["label"] for t in tasks} <= {"PERSON", "ORG"}
    server.answer(tasks[:5], "accept")
    wait_for_updates(server.url, 1)


def test_sentences_are_split_before_scoring(start_server: Any, tmp_path: Path) -> None:
    text = "Alice Smith works for Acme Corp now. Shares of Globex Inc rose sharply."
    source = write_jsonl(tmp_path / "two.jsonl", [{"text": text}])
    server = start_server("ner.teach", "split", str(trained_ner_dir()), str(source), "--label", "PERSON,ORG")
    texts = {t["text"] for t in server.questions()}
    assert texts and all(t in ("Alice Smith works for Acme Corp now.", "Shares of Globex Inc rose sharply.") for t in texts)


@pytest.mark.parametrize("args, message", [
    (["nope_model"], "Can't find spaCy pipeline 'nope_model'"),
    (["blank:en", "--patterns", "missing.jsonl"], "missing.jsonl"),
])
def test_bad_model_or_patterns_are_one_line_errors(args: list[str], message: str, home: Path, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "s.jsonl", [{"text": "hello"}])
    result = run_cli("ner.teach", "ds", args[0], str(source), "--label", "ORG", *args[1:], "--db", str(tmp_path / "x.db"), home=home)
    assert result.returncode == 1 and message in result.stderr
    assert "Traceback" not in result.stderr and result.stderr.strip().count("\n") == 0


def test_train_without_datasets_is_a_one_line_error(home: Path, tmp_path: Path) -> None:
    result = run_cli("train", str(tmp_path / "out"), "--db", str(tmp_path / "x.db"), home=home)
    assert result.returncode == 1 and "--ner" in result.stderr



def test_teach_verify_asks_whole_sentences_and_learns_them_as_complete(start_server: Any, tmp_path: Path, home: Path) -> None:
    sentences = make_sentences(30, seed=17)
    gold = {text: set(ents) for text, ents in sentences}
    source = write_jsonl(tmp_path / "source.jsonl", [{"text": text} for text, _ in sentences])
    server = start_server("ner.teach", "checked", str(trained_ner_dir()), str(source), "--label", "PERSON,ORG",
                          "--unsegmented", "--question", "verify")
    tasks = server.questions()
    assert tasks and all(t["_question"] == "verify" and t["_complete"] is True for t in tasks)
    assert len({t["text"] for t in tasks}) == len(tasks)  # one question per sentence
    answers = [{**t, "answer": "accept" if {(s["start"], s["end"], s["label"]) for s in t["spans"]} == gold[t["text"]]
                else "reject"} for t in tasks]
    assert sum(a["answer"] == "accept" for a in answers) >= len(answers) // 2  # the small model knows these templates
    server.post("/give_answers", {"answers": answers, "session_id": None})
    status = wait_for_updates(server.url, 1)
    assert status["answered"] == len(tasks)
