"""The controller against a real SQLite file: batching, exclusion, sessions and the model worker."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from binanno.components.db import Database
from binanno.config import resolve
from binanno.controller import AnswerError, Controller
from binanno.errors import UserError


def texts(n: int, prefix: str = "text") -> Iterator[dict[str, Any]]:
    for i in range(n):
        yield {"text": f"{prefix} {i}", "meta": {"score": (i % 10) / 10}}


def make(db: Database, stream: Any, start: bool = True, **components: Any) -> Controller:
    settings = resolve(components.pop("config", None), environ={}, cwd=Path("/nonexistent"))
    ctrl = Controller({"dataset": "ds", "stream": stream, **components}, db, settings)
    if start:
        ctrl.start()
    return ctrl


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "test.db")
    yield database
    database.close()


def test_batches_then_no_repeats_after_restart(db: Database) -> None:
    ctrl = make(db, texts(25))
    first = ctrl.get_questions(None)
    assert [t["text"] for t in first] == [f"text {i}" for i in range(10)]
    ctrl.receive_answers([{**t, "answer": "accept"} for t in first], None)
    second = ctrl.get_questions(None)
    assert [t["text"] for t in second] == [f"text {i}" for i in range(10, 20)]
    ctrl.close()  # the second batch was sent but never answered

    again = make(db, texts(25))
    seen = [t["text"] for t in again.get_questions(None) + again.get_questions(None)]
    assert seen == [f"text {i}" for i in range(10, 25)]
    assert again.get_questions(None, wait=0.1) == []
    assert again.status()["exhausted"]
    again.close()


def test_duplicates_in_the_stream_are_asked_once(db: Database) -> None:
    stream = [{"text": "same"}, {"text": "other"}, {"text": "same"}]
    ctrl = make(db, stream)
    assert [t["text"] for t in ctrl.get_questions(None)] == ["same", "other"]
    ctrl.close()


def test_exclude_skips_questions_answered_in_other_datasets(db: Database) -> None:
    db.add_answers("old", [{"text": "text 1", "answer": "accept"}, {"text": "text 3", "answer": "reject"}])
    ctrl = make(db, texts(5), exclude=["old"])
    assert [t["text"] for t in ctrl.get_questions(None)] == ["text 0", "text 2", "text 4"]
    ctrl.close()


def test_resent_batch_is_stored_and_learned_from_once(db: Database) -> None:
    seen: list[list[str]] = []
    ctrl = make(db, texts(5), update=lambda answers: seen.append([a["text"] for a in answers]))
    batch = [{**t, "answer": "accept"} for t in ctrl.get_questions(None)]
    ctrl.receive_answers(batch, None)
    ctrl.receive_answers(batch, None)  # the client never saw the first response
    ctrl.close()
    assert db.count("ds") == 5
    assert ctrl.status()["accept"] == 5
    assert sorted(sum(seen, [])) == [f"text {i}" for i in range(5)]


def test_answers_are_committed_before_the_update_finishes(db: Database) -> None:
    release = threading.Event()
    started = threading.Event()

    def slow_update(answers: list[dict[str, Any]]) -> None:
        started.set()
        release.wait(30)

    ctrl = make(db, texts(40), update=slow_update)
    batch = ctrl.get_questions(None)
    ctrl.receive_answers([{**t, "answer": "reject"} for t in batch], None)
    assert started.wait(10)
    # While the model trains: the answers are already in the database, and the next
    # questions come from the scored look-ahead without waiting.
    assert db.count("ds") == 10
    assert len(ctrl.get_questions(None, wait=0)) == 10
    assert ctrl.status()["pending_updates"] == 1
    release.set()
    ctrl.close()
    assert ctrl.status()["updates"] == 1


def test_stream_and_update_share_one_worker_thread(db: Database) -> None:
    threads: set[str] = set()

    def stream() -> Iterator[dict[str, Any]]:
        for task in texts(30):
            threads.add(threading.current_thread().name)
            yield task

    ctrl = make(db, stream(), update=lambda answers: threads.add(threading.current_thread().name))
    ctrl.receive_answers([{**t, "answer": "accept"} for t in ctrl.get_questions(None)], None)
    ctrl.close()
    assert threads == {"binanno-worker"}


def test_sessions_split_the_queue_without_overlap(db: Database) -> None:
    ctrl = make(db, texts(20))
    alice = {t["text"] for t in ctrl.get_questions("ds-alice")}
    bob = {t["text"] for t in ctrl.get_questions("ds-bob")}
    assert len(alice) == len(bob) == 10 and not alice & bob
    ctrl.close()


def test_feed_overlap_gives_every_session_every_question(db: Database) -> None:
    ctrl = make(db, texts(12), config={"feed_overlap": True})
    alice = ctrl.get_questions("ds-alice")
    ctrl.receive_answers([{**t, "answer": "accept"} for t in alice], "ds-alice")
    bob = ctrl.get_questions("ds-bob")
    assert [t["text"] for t in alice] == [t["text"] for t in bob]
    assert all(t["_session_id"] == "ds-bob" for t in bob)
    ctrl.close()
    # Each session's answers are its own rows, and a restart skips only what that session answered.
    again = make(db, texts(12), config={"feed_overlap": True})
    assert [t["text"] for t in again.get_questions("ds-alice")] == ["text 10", "text 11"]
    assert len(again.get_questions("ds-bob")) == 10
    again.close()


def test_model_accuracy_compares_the_score_at_question_time_with_the_answer(db: Database) -> None:
    ctrl = make(db, texts(10))
    batch = ctrl.get_questions(None)  # scores 0.0 .. 0.9
    ctrl.receive_answers([{**t, "answer": "accept"} for t in batch], None)
    status = ctrl.status()
    assert status["model_accuracy"] == pytest.approx(0.5) and status["model_accuracy_n"] == 10
    assert db.stats("ds")["model_accuracy"] == pytest.approx(0.5)
    ctrl.close()


def test_a_bad_record_in_the_first_lookahead_stops_the_start(db: Database) -> None:
    def stream() -> Iterator[dict[str, Any]]:
        yield {"text": "fine"}
        raise UserError("input.jsonl:7: malformed JSON")

    ctrl = make(db, stream(), start=False)
    with pytest.raises(UserError, match="input.jsonl:7"):
        ctrl.start()
    ctrl.close()
    assert "ds" not in db  # a failed start leaves no empty dataset behind


def test_validate_answer_refuses_the_whole_batch(db: Database) -> None:
    def validate(task: dict[str, Any]) -> None:
        if task["answer"] == "accept" and task["text"].endswith("3"):
            raise ValueError("text 3 can't be accepted")

    ctrl = make(db, texts(5), validate_answer=validate)
    batch = ctrl.get_questions(None)
    with pytest.raises(AnswerError, match="text 3 can't be accepted"):
        ctrl.receive_answers([{**t, "answer": "accept"} for t in batch], None)
    assert db.count("ds") == 0
    ctrl.close()


def test_before_db_changes_what_is_stored_not_what_the_model_sees(db: Database) -> None:
    seen: list[dict[str, Any]] = []

    def strip(answers: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in a.items() if k != "meta"} for a in answers]

    ctrl = make(db, texts(3), before_db=strip, update=seen.extend)
    ctrl.receive_answers([{**t, "answer": "accept"} for t in ctrl.get_questions(None)], None)
    ctrl.close()
    assert all("meta" not in t for t in db.get_answers("ds"))
    assert all("meta" in t for t in seen)


def test_unanswered_questions_are_offered_again_after_resend_after(db: Database) -> None:
    ctrl = make(db, texts(3), config={"resend_after": 0})
    first = ctrl.get_questions("ds-a")
    time.sleep(0.01)
    assert [t["_task_hash"] for t in ctrl.get_questions("ds-a")] == [t["_task_hash"] for t in first]
    ctrl.close()


def test_close_applies_pending_updates_before_on_exit(db: Database) -> None:
    order: list[str] = []
    ctrl = make(db, texts(10), update=lambda answers: order.append("update"), on_exit=lambda c: order.append("exit"))
    ctrl.receive_answers([{**t, "answer": "accept"} for t in ctrl.get_questions(None)], None)
    ctrl.close()
    assert order == ["update", "exit"]


def test_a_recipe_without_a_stream_is_a_one_line_error(db: Database) -> None:
    with pytest.raises(UserError, match="no 'stream'"):
        Controller({"dataset": "ds"}, db, resolve(environ={}))  # type: ignore[typeddict-item]


def test_ready_questions_never_waits_and_says_when_it_would(db: Database) -> None:
    release = threading.Event()

    def gated() -> Iterator[dict[str, Any]]:
        yield from texts(10)
        release.wait(10)  # the next question is "still being scored"
        yield from texts(3, prefix="late")

    ctrl = make(db, gated(), start=False)
    ctrl.start(wait=False)
    assert ctrl.ready_questions("new-session") is None  # registering a session goes to a thread
    assert len(ctrl.get_questions("a")) == 10
    started = time.perf_counter()
    assert ctrl.ready_questions("a") is None  # nothing scored: the server waits in a thread instead
    assert time.perf_counter() - started < 0.5
    release.set()
    assert [t["text"] for t in ctrl.get_questions("a")] == ["late 0", "late 1", "late 2"]
    assert ctrl.get_questions("a", wait=5) == []  # waits for the worker to reach the end
    assert ctrl.ready_questions("a") == []  # the stream is done: an empty answer, not a wait
    ctrl.close()


def test_a_task_with_nothing_to_show_stops_the_stream_with_its_keys(db: Database) -> None:
    # Prodigy's loaders read records without text; a recipe that never adds the card's text or html is told so.
    with pytest.raises(UserError, match=r"nothing to show .*it has: item1, item2\)"):
        make(db, [{"item1": "Acme Inc.", "item2": "ACME"}])


def test_components_binanno_ignores_are_named_at_start(db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    ctrl = make(db, texts(3), on_exi=lambda c: None, event_hooks={"check": lambda c, **kw: None})
    err = capsys.readouterr().err
    assert "unknown component 'on_exi', which is ignored. Did you mean: on_exit" in err
    assert "'event_hooks', which binanno does not run: custom events" in err
    assert len(ctrl.get_questions(None)) == 3  # the recipe still serves
    ctrl.close()


def test_answers_saved_from_the_event_loop_count_and_teach_as_from_a_thread(db: Database) -> None:
    seen: list[str] = []
    ctrl = make(db, texts(20), update=lambda answers: seen.extend(a["text"] for a in answers))
    batch = [{**t, "answer": "accept"} for t in ctrl.get_questions(None)]
    assert ctrl.answers_on_loop(batch, None)  # a session that has fetched questions
    assert asyncio.run(ctrl.receive_answers_async(batch, None)) == 10
    assert asyncio.run(ctrl.receive_answers_async(batch, None)) == 10  # re-sent: stored again, counted once
    with pytest.raises(AnswerError, match="answer 1 was refused"):
        asyncio.run(ctrl.receive_answers_async([batch[0], {**batch[1], "answer": "maybe"}], None))
    ctrl.close()
    assert db.count("ds") == 10 and ctrl.status()["accept"] == 10
    assert sorted(seen) == sorted(t["text"] for t in batch)


def test_recipe_hooks_new_sessions_and_large_batches_are_saved_from_a_thread(db: Database) -> None:
    # A recipe's validate_answer / before_db may block, and thousands of answers take long to check:
    # those must not run on the event loop, where they would stall every other session.
    batch = [{"text": f"t{i}", "answer": "accept"} for i in range(5)]
    # So is a session not seen yet (registering it may read the database).
    plain = make(db, texts(1))
    assert not plain.answers_on_loop(batch, None)
    plain.get_questions(None)
    assert plain.answers_on_loop(batch, None)
    assert not plain.answers_on_loop(batch, "someone-new")
    assert not plain.answers_on_loop([], None)
    assert not plain.answers_on_loop(batch * 100, None)
    plain.close()
    for hook in ({"validate_answer": lambda task: None}, {"before_db": lambda tasks: tasks}):
        ctrl = make(db, texts(1), **hook)
        ctrl.get_questions(None)
        assert not ctrl.answers_on_loop(batch, None)
        ctrl.close()
