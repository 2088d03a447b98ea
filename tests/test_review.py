"""review: two annotators' answers merged, conflicts asked, agreements stored; the real server on real SQLite."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import free_port, run_cli, write_jsonl

from binanno import connect

pytestmark = pytest.mark.slow

AGREED = "Maria Lopez joined Northwind Bank."
DISPUTED = "Tom Becker met Anna Schmidt in Lisbon."


def spans(text: str, *parts: tuple[str, str]) -> list[dict[str, Any]]:
    return [{"start": text.index(p), "end": text.index(p) + len(p), "label": label} for p, label in parts]


def span_texts(task: dict[str, Any]) -> list[tuple[str, str]]:
    return [(task["text"][s["start"]:s["end"]], s["label"]) for s in task["spans"]]


@pytest.fixture
def two_sessions(start_server: Any, tmp_path: Path) -> Path:
    """Alice and Bob annotate the same two texts in ner.manual: they agree on one and not the other."""
    source = write_jsonl(tmp_path / "in.jsonl", [{"text": AGREED}, {"text": DISPUTED}])
    server = start_server("ner.manual", "gold", "blank:en", str(source), "--label", "PERSON,ORG,GPE", "--feed-overlap")
    given = {
        "alice": {AGREED: spans(AGREED, ("Maria Lopez", "PERSON"), ("Northwind Bank", "ORG")),
                  DISPUTED: spans(DISPUTED, ("Tom Becker", "PERSON"), ("Anna Schmidt", "PERSON"), ("Lisbon", "GPE"))},
        "bob": {AGREED: spans(AGREED, ("Maria Lopez", "PERSON"), ("Northwind Bank", "ORG")),
                DISPUTED: spans(DISPUTED, ("Tom Becker", "PERSON"), ("Anna Schmidt", "ORG"))},
    }
    for name, answers in given.items():
        session = f"gold-{name}"
        tasks = server.questions(session)
        assert {t["text"] for t in tasks} == {AGREED, DISPUTED}
        server.post("/give_answers", {"answers": [{**t, "spans": answers[t["text"]], "answer": "accept"} for t in tasks],
                                      "session_id": session})
    server.stop()
    return server.db


def test_review_asks_only_the_conflict_and_stores_the_decision(start_server: Any, two_sessions: Path) -> None:
    server = start_server("review", "final", "gold", db=two_sessions)
    project = httpx.get(server.url + "/project").json()
    assert project["view_id"] == "review" and set(project["config"]["labels"]) == {"PERSON", "ORG", "GPE"}
    (task,) = server.questions()
    assert task["text"] == DISPUTED and task["view_id"] == "ner_manual" and task["tokens"]
    versions = task["versions"]
    assert [(v["sessions"], v["answer"]) for v in versions] == [(["gold-alice"], "accept"), (["gold-bob"], "accept")]
    assert span_texts(versions[1]) == [("Tom Becker", "PERSON"), ("Anna Schmidt", "ORG")]
    assert [v["default"] for v in versions] == [True, False]  # a tie: the version given first
    assert span_texts(task) == span_texts(versions[0])  # the reviewer's own version starts from the default
    # The reviewer keeps Alice's version without Lisbon and accepts.
    decided = {**task, "spans": [s for s in task["spans"] if s["label"] == "PERSON"], "answer": "accept"}
    server.post("/give_answers", {"answers": [decided], "session_id": None})
    (answer,) = connect(str(two_sessions)).get_answers("final")
    assert span_texts(answer) == [("Tom Becker", "PERSON"), ("Anna Schmidt", "PERSON")] and answer["answer"] == "accept"
    assert server.questions() == []


def test_auto_accept_stores_the_agreed_input_without_a_question(start_server: Any, two_sessions: Path) -> None:
    server = start_server("review", "final", "gold", "--auto-accept", db=two_sessions)
    reply = server.post("/get_session_questions", {"session_id": None})
    assert [t["text"] for t in reply["tasks"]] == [DISPUTED] and reply["total"] == 1
    (stored,) = connect(str(two_sessions)).get_answers("final")
    assert stored["text"] == AGREED and stored["answer"] == "accept" and stored["_session_id"] == "final-auto"
    assert span_texts(stored) == [("Maria Lopez", "PERSON"), ("Northwind Bank", "ORG")]
    assert stored["versions"][0]["sessions"] == ["gold-alice", "gold-bob"]


def test_show_all_asks_every_input(start_server: Any, two_sessions: Path) -> None:
    server = start_server("review", "final", "gold", "--show-all", db=two_sessions)
    reply = server.post("/get_session_questions", {"session_id": None})
    assert reply["total"] == 2
    tasks = {t["text"]: t for t in reply["tasks"]}
    assert set(tasks) == {AGREED, DISPUTED}
    agreed = tasks[AGREED]["versions"]
    assert len(agreed) == 1 and agreed[0]["sessions"] == ["gold-alice", "gold-bob"] and agreed[0]["default"] is True
    assert list(connect(str(two_sessions)).get_answers("final")) == []  # nothing stored without --auto-accept


def test_yes_no_answers_are_merged_per_question(start_server: Any, tmp_path: Path) -> None:
    text = "Maria met Tom."
    source = write_jsonl(tmp_path / "in.jsonl", [{"text": text, "spans": spans(text, ("Maria", "PERSON"), ("Tom", "ORG"))}])
    server = start_server("mark", "yesno", str(source), "--feed-overlap")
    for session, answers in (("yesno-alice", {"Maria": "accept", "Tom": "reject"}),
                             ("yesno-bob", {"Maria": "accept", "Tom": "accept"})):
        tasks = server.questions(session)
        server.post("/give_answers", {"answers": [{**t, "answer": answers[span_texts(t)[0][0]]} for t in tasks],
                                      "session_id": session})
    server.stop()
    review = start_server("review", "yesno_final", "yesno", db=server.db)
    (task,) = review.questions()  # one question per span: they agree on Maria
    assert span_texts(task) == [("Tom", "ORG")] and task["view_id"] == "binary"
    assert sorted((v["answer"], v["sessions"][0]) for v in task["versions"]) == [("accept", "yesno-bob"), ("reject", "yesno-alice")]


def test_image_answers_are_marked_and_reviewed_per_question(start_server: Any, tmp_path: Path) -> None:
    image = "data:image/png;base64,iVBORw0KGgo="
    source = write_jsonl(tmp_path / "in.jsonl", [{"image": image, "label": "CAT"}, {"image": image, "label": "DOG"}])
    server = start_server("mark", "pics", str(source), "--view-id", "image", "--feed-overlap")
    assert httpx.get(server.url + "/project").json()["view_id"] == "image"
    for session, answers in (("pics-alice", {"CAT": "accept", "DOG": "reject"}),
                             ("pics-bob", {"CAT": "accept", "DOG": "accept"})):
        tasks = server.questions(session)
        assert sorted(t["label"] for t in tasks) == ["CAT", "DOG"] and all(t["image"] == image for t in tasks)
        server.post("/give_answers", {"answers": [{**t, "answer": answers[t["label"]]} for t in tasks],
                                      "session_id": session})
    server.stop()
    # A yes/no interface: merged per question, so the two labels of one image are two questions.
    review = start_server("review", "pics_final", "pics", db=server.db)
    (task,) = review.questions()
    assert task["label"] == "DOG" and task["view_id"] == "image"
    assert sorted((v["answer"], v["sessions"][0]) for v in task["versions"]) == [("accept", "pics-bob"), ("reject", "pics-alice")]


def test_review_errors(home: Path, tmp_path: Path) -> None:
    db = str(tmp_path / "x.db")
    connect(db).add_dataset("gold")
    for args, message in [(["review", "final", "nope"], "Unknown dataset 'nope'"),
                          (["review", "gold", "gold"], "one of the datasets under review")]:
        result = run_cli(*args, "--db", db, "--port", str(free_port()), home=home)
        assert result.returncode == 1 and message in result.stderr and "Traceback" not in result.stderr, result.stderr
