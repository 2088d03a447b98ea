"""textcat.manual and mark's --view-id and total, through the real server on a real SQLite file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from conftest import SAMPLE_SPANS, free_port, run_cli, write_jsonl

from binanno import connect
from binanno.components.count import Total, count_records
from binanno.recipes.mark import mark
from binanno.recipes.textcat_manual import textcat_manual

TEXTS = [{"text": "Win a free cruise now!"}, {"text": "See you at lunch."}, {"text": "Cheap pills, no prescription."}]


def test_one_label_is_a_yes_no_card(start_server: Any, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", TEXTS)
    server = start_server("textcat.manual", "spam", str(source), "--label", "SPAM")
    assert httpx.get(server.url + "/project").json()["view_id"] == "classification"
    tasks = server.questions()
    assert [(t["text"], t["label"]) for t in tasks] == [(t["text"], "SPAM") for t in TEXTS]
    server.post("/give_answers", {"answers": [{**t, "answer": a} for t, a in zip(tasks, ["accept", "reject", "accept"])],
                                  "session_id": None})
    answers = {a["text"]: a["answer"] for a in connect(str(server.db)).get_answers("spam")}
    assert answers == {"Win a free cruise now!": "accept", "See you at lunch.": "reject",
                       "Cheap pills, no prescription.": "accept"}


def test_several_labels_are_a_choice_stored_in_accept(start_server: Any, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", TEXTS[:2])
    server = start_server("textcat.manual", "topics", str(source), "--label", "SPAM,HAM,URGENT")
    project = httpx.get(server.url + "/project").json()
    assert project["view_id"] == "choice"
    first, second = server.questions()
    assert first["options"] == [{"id": "SPAM", "text": "SPAM"}, {"id": "HAM", "text": "HAM"}, {"id": "URGENT", "text": "URGENT"}]
    assert first["accept"] == [] and first["_task_hash"] != second["_task_hash"]
    server.post("/give_answers", {"answers": [{**first, "accept": ["SPAM", "URGENT"], "answer": "accept"},
                                              {**second, "accept": ["HAM"], "answer": "accept"}], "session_id": None})
    answers = {a["text"]: a["accept"] for a in connect(str(server.db)).get_answers("topics")}
    assert answers == {TEXTS[0]["text"]: ["SPAM", "URGENT"], TEXTS[1]["text"]: ["HAM"]}


def test_choice_style_and_total_from_the_components(tmp_path: Path) -> None:
    source = str(write_jsonl(tmp_path / "in.jsonl", TEXTS))
    exclusive = textcat_manual("d", source, label=["A", "B"], exclusive=True)
    assert exclusive["config"]["choice_style"] == "single" and exclusive["view_id"] == "choice"
    multiple = textcat_manual("d", source, label=["A", "B"])
    assert multiple["config"]["choice_style"] == "multiple"
    total = multiple["total"]
    assert callable(total) and total() == 3
    assert next(iter(multiple["stream"]))["text"] == TEXTS[0]["text"]  # counting read nothing of the stream


def test_textcat_manual_errors(home: Path, tmp_path: Path) -> None:
    source = str(write_jsonl(tmp_path / "in.jsonl", TEXTS))
    for args, message in [(["textcat.manual", "d", source], "No labels given"),
                          (["textcat.manual", "d", source, "--label", "A", "--exclusive"], "--exclusive needs at least two"),
                          (["textcat.manual", "d", source, "--label", "./labels.txt"], "Label file './labels.txt' not found")]:
        result = run_cli(*args, "--port", str(free_port()), "--db", str(tmp_path / "x.db"), home=home)
        assert result.returncode == 1 and message in result.stderr and "Traceback" not in result.stderr, result.stderr


def test_mark_counts_its_questions(tmp_path: Path) -> None:
    # Two spans in the first record and one in the second: three yes/no questions.
    source = write_jsonl(tmp_path / "in.jsonl", [
        {"text": "Maria met Tom.", "spans": [{"start": 0, "end": 5, "label": "PERSON"}, {"start": 10, "end": 13, "label": "PERSON"}]},
        {"text": "Acme rose.", "spans": [{"start": 0, "end": 4, "label": "ORG"}]},
    ])
    components = mark("d", str(source))
    assert components["total"]() == 3 == len(list(components["stream"]))  # type: ignore[operator]
    whole = mark("d", str(source), view_id="ner_manual")
    tasks = list(whole["stream"])
    assert whole["view_id"] == "ner_manual" and whole["total"]() == 2 == len(tasks)  # type: ignore[operator]
    assert [t["text"] for t in tasks[0]["tokens"]] == ["Maria", "met", "Tom", "."]
    assert tasks[0]["spans"][1]["token_start"] == 2
    assert mark("d", "-")["total"]() is None  # type: ignore[operator]  # stdin: the length is unknown


def test_mark_view_id_serves_whole_examples(start_server: Any) -> None:
    server = start_server("mark", "news_review", str(SAMPLE_SPANS), "--view-id", "ner_manual")
    assert httpx.get(server.url + "/project").json()["view_id"] == "ner_manual"
    tasks = server.questions()
    assert len(tasks[0]["spans"]) == 3 and tasks[0]["tokens"]  # the first sample, whole, with its three spans


def test_count_records(tmp_path: Path) -> None:
    jsonl = tmp_path / "a.jsonl"
    jsonl.write_text('{"text": "a"}\n\n{"text": "b"}\n', encoding="utf8")
    csv = tmp_path / "a.csv"
    csv.write_text('text,label\n"two\nlines",X\nplain,Y\n', encoding="utf8")
    assert count_records(jsonl) == 2 and count_records(csv) == 2 and count_records("-") is None
    calls: list[int] = []
    total = Total(lambda: calls.append(1) or 7)
    assert total() == 7 and total() == 7 and calls == [1]
