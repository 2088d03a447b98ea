"""Task routing against the real server: annotations_per_task, fractions, abandoned batches."""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any, Iterator

import pytest

from binanno.components.db import Database
from binanno.config import resolve
from binanno.controller import Controller
from binanno.errors import UserError
from binanno.hashing import set_hashes, task_key
from binanno.routing import Router
from tests.conftest import write_jsonl


def texts(n: int) -> list[dict[str, Any]]:
    return [{"text": f"Sentence number {i} about the weather."} for i in range(n)]


def make(db: Database, stream: Any, **config: Any) -> Controller:
    settings = resolve(config, environ={}, cwd=Path("/nonexistent"))
    ctrl = Controller({"dataset": "ds", "stream": iter(stream)}, db, settings)
    ctrl.start()
    return ctrl


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "test.db")
    yield database
    database.close()


def answer_all(ctrl: Controller, sessions: list[str]) -> None:
    """Each session in turn fetches and answers until none gets anything."""
    active = list(sessions)
    while active:
        for session in list(active):
            batch = ctrl.get_questions(session, wait=5)
            if not batch:
                active.remove(session)
                continue
            ctrl.receive_answers([{**t, "answer": "accept"} for t in batch], session)


def answers_per_text(db: Database) -> dict[str, list[str]]:
    per_text: dict[str, list[str]] = {}
    for task in db.get_answers("ds"):
        per_text.setdefault(task["text"], []).append(task["_session_id"])
    return per_text


def test_fractional_annotations_per_task_sends_the_picked_half_to_a_second_session(db: Database) -> None:
    ctrl = make(db, texts(200), annotations_per_task=1.5)
    answer_all(ctrl, ["ds-a", "ds-b", "ds-c"])
    ctrl.close()
    per_text = answers_per_text(db)
    assert len(per_text) == 200
    router = Router(1.5, task_key, 300, set(), {})
    for task in db.get_answers("ds"):
        sessions = per_text[task["text"]]
        assert len(sessions) == len(set(sessions)) == router.wanted(task_key(task))
    doubled = sum(len(s) == 2 for s in per_text.values())
    assert 60 < doubled < 140  # about half, picked by each question's key


def test_feed_overlap_and_annotations_per_task_are_the_ends_of_one_setting(db: Database) -> None:
    ctrl = make(db, texts(12), feed_overlap=True)
    answer_all(ctrl, ["ds-a", "ds-b", "ds-c"])
    ctrl.close()
    assert all(sorted(s) == ["ds-a", "ds-b", "ds-c"] for s in answers_per_text(db).values())
    with pytest.raises(UserError, match="annotations_per_task must be a number of at least 1"):
        make(db, texts(3), annotations_per_task=0.5)


def test_a_restart_asks_only_for_the_missing_second_answers(db: Database) -> None:
    ctrl = make(db, texts(10), annotations_per_task=2)
    answer_all(ctrl, ["ds-a"])
    ctrl.close()
    again = make(db, texts(10), annotations_per_task=2)
    assert again.get_questions("ds-a", wait=0.1) == []  # a answered them all already
    assert len(again.get_questions("ds-b")) == 10
    again.close()


def test_50_concurrent_sessions_with_annotations_per_task_2(start_server: Any, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", texts(500))
    server = start_server("mark", "ds", str(source), "--batch-size", "5", "--annotations-per-task", "2")
    errors: list[BaseException] = []

    def annotate(name: str) -> None:
        try:
            while True:
                batch = server.questions(f"ds-{name}")
                if not batch:
                    return
                server.answer(batch, session_id=f"ds-{name}")
        except BaseException as e:  # reported by the test thread
            errors.append(e)

    threads = [threading.Thread(target=annotate, args=(f"s{i}",)) for i in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    server.stop()
    db = Database(server.db)
    rows = list(db.get_answers("ds"))
    per_text = answers_per_text(db)
    db.close()
    assert len(per_text) == 500 and len(rows) == 1000
    assert Counter(len(set(s)) for s in per_text.values()) == {2: 500}  # exactly 2 distinct sessions each
    assert len({s for sessions in per_text.values() for s in sessions}) > 10  # the work was shared out


def test_an_abandoned_batch_goes_to_another_session_after_resend_after(start_server: Any, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", texts(30))
    # Long enough that answering the other 20 (two round trips) never takes as long, even on a busy machine.
    server = start_server("mark", "ds", str(source), env={"BINANNO_RESEND_AFTER": "6"})
    assert len(server.questions("ds-gone")) == 10  # fetched, then the annotator left
    answered = 0
    while batch := server.questions("ds-stays"):
        answered += server.answer(batch, session_id="ds-stays")["stored"]
    assert answered == 20
    reply = server.post("/get_session_questions", {"session_id": "ds-stays"})
    assert reply["tasks"] == [] and not reply["status"]["exhausted"]  # 10 are still out with ds-gone
    for _ in range(60):  # past resend_after they come back
        time.sleep(0.5)
        batch = server.questions("ds-stays")
        if batch:
            break
    assert len(batch) == 10
    reply = server.answer(batch, session_id="ds-stays")
    assert reply["status"]["exhausted"] and reply["status"]["answered"] == 30


def test_expire_takes_back_exactly_the_questions_out_too_long() -> None:
    router = Router(None, task_key, resend_after=10.0, done=set(), answered={})
    tasks = [set_hashes({"text": f"question {i}"}) for i in range(6)]
    for session in ("a", "b"):
        router.join(session)
    # a gets three at t=0, 5, 20; b gets three at t=1, 2, 30.
    for task, session, when in zip(tasks, "aaabbb", (0.0, 5.0, 20.0, 1.0, 2.0, 30.0)):
        router._hand(task, session, when)
    router.expire(16.0)  # more than 10 s out: a's t=0 and t=5, b's t=1 and t=2
    assert [t["text"] for t in router.returned] == ["question 0", "question 1", "question 3", "question 4"]
    assert [t["text"] for _, t in router.sent["a"].values()] == ["question 2"]
    assert [t["text"] for _, t in router.sent["b"].values()] == ["question 5"]
    router.expire(16.0)  # nothing more is due
    assert len(router.returned) == 4
