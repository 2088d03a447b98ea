"""The answer store on real SQLite files and a real PostgreSQL server (each test that takes ``db`` runs on both)."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any, Iterator

import pytest

from binanno import connect
from binanno.components.db import Database
from binanno.components.db_stats import task_labels
from binanno.errors import UserError
from binanno.hashing import set_hashes


@pytest.fixture
def db(db_target: str) -> Iterator[Database]:
    database = Database(db_target)
    yield database
    database.close()


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "answers.db")
    yield database
    database.close()


def answers(*specs: tuple[str, str], **extra: Any) -> list[dict[str, Any]]:
    """Tasks from (text, answer) pairs."""
    return [{"text": text, "answer": answer, **extra} for text, answer in specs]


def test_wal_mode_and_foreign_keys(sqlite_db: Database, tmp_path: Path) -> None:
    db = sqlite_db
    assert db.db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
    # WAL is a property of the file: another program sees it too
    with sqlite3.connect(tmp_path / "answers.db") as other:
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_add_answers_commits(db: Database) -> None:
    assert db.add_answers("ds", answers(("a", "accept"), ("b", "reject"))) == 2
    # A second connection (another process, say) sees them as soon as add_answers returns.
    second = Database(db.target)
    rows = second.db.execute_sql("SELECT answer FROM example ORDER BY id").fetchall()
    assert [tuple(row) for row in rows] == [("accept",), ("reject",)]
    assert [t["text"] for t in second.get_answers("ds")] == ["a", "b"]
    second.close()


def test_answers_are_hashed_and_stamped(db: Database) -> None:
    db.add_answers("ds", answers(("a", "accept")), session_id="ds-alex")
    (task,) = db.get_answers("ds")
    assert task["_task_hash"] == set_hashes({"text": "a"})["_task_hash"]
    assert task["_session_id"] == "ds-alex" and isinstance(task["_timestamp"], int)


def test_readding_a_batch_creates_no_duplicates(db: Database) -> None:
    batch = answers(("a", "accept"), ("b", "accept"))
    db.add_answers("ds", [dict(t) for t in batch])
    db.add_answers("ds", [dict(t) for t in batch])
    assert db.count("ds") == 2
    # the same question answered again by the same session: the newer answer wins
    db.add_answers("ds", answers(("a", "reject")))
    assert {t["text"]: t["answer"] for t in db.get_answers("ds")} == {"a": "reject", "b": "accept"}
    # another session's answer to the same question is its own row
    db.add_answers("ds", answers(("a", "accept")), session_id="ds-sam")
    assert db.count("ds") == 3


def test_a_bad_answer_stores_nothing(db: Database) -> None:
    db.add_answers("ds", answers(("kept", "accept")))
    with pytest.raises(UserError, match="answer must be one of accept, reject, ignore, got 'maybe'"):
        db.add_answers("ds", answers(("a", "accept"), ("b", "maybe")))
    with pytest.raises(UserError):
        db.add_answers("new", answers(("a", "yes")))
    assert [t["text"] for t in db.get_answers("ds")] == ["kept"]
    assert db.datasets() == ["ds"]  # no empty 'new' dataset left behind


def test_get_answers_filter(db: Database) -> None:
    db.add_answers("ds", answers(("a", "accept"), ("b", "reject"), ("c", "ignore"), ("d", "accept")))
    assert [t["text"] for t in db.get_answers("ds", answer="accept")] == ["a", "d"]
    assert [t["text"] for t in db.get_answers("ds", answer="reject")] == ["b"]
    assert [t["text"] for t in db.get_answers("ds")] == ["a", "b", "c", "d"]


def test_unknown_dataset_errors_before_reading(db: Database) -> None:
    db.add_dataset("news")
    with pytest.raises(UserError, match="Unknown dataset 'nwes'. Did you mean: news?"):
        db.get_answers("nwes")  # raises on the call, not on the first next()
    for method in (db.count, db.stats, db.drop):
        with pytest.raises(UserError, match="Unknown dataset"):
            method("nwes")


def test_datasets_and_contains(db: Database) -> None:
    db.add_dataset("b", {"view_id": "ner"})
    db.add_dataset("a")
    db.add_dataset("a")  # idempotent
    assert db.datasets() == ["a", "b"] and "a" in db and "c" not in db
    db.add_answers("c", [])  # an empty import still creates the dataset
    assert db.datasets() == ["a", "b", "c"] and db.count("c") == 0


def test_drop(db: Database) -> None:
    db.add_answers("gone", answers(("a", "accept"), ("b", "reject")))
    db.add_answers("kept", answers(("a", "accept")))
    assert db.drop("gone") == 2
    assert db.datasets() == ["kept"] and db.count("kept") == 1
    other = Database(db.target)
    assert other.db.execute_sql("SELECT COUNT(*) FROM example").fetchone()[0] == 1
    other.close()


def test_hashes(db: Database) -> None:
    db.add_answers("one", answers(("a", "accept"), ("b", "reject"), label="X"), session_id="s1")
    db.add_answers("two", answers(("c", "accept")), session_id="s2")
    tasks = {t["text"]: t for t in [*db.get_answers("one"), *db.get_answers("two")]}
    assert db.hashes(["one"]) == {tasks["a"]["_task_hash"], tasks["b"]["_task_hash"]}
    assert db.hashes(["one", "two", "missing"], kind="input") == {t["_input_hash"] for t in tasks.values()}
    assert db.hashes(["one"], kind="input") == {set_hashes({"text": "a"})["_input_hash"], set_hashes({"text": "b"})["_input_hash"]}
    assert db.hashes(["one", "two"], session_id="s2") == {tasks["c"]["_task_hash"]}
    assert db.hashes(["missing"]) == set() and db.hashes([]) == set()


def test_stats(db: Database) -> None:
    rows = [
        {"text": "a", "spans": [{"start": 0, "end": 1, "label": "ORG"}], "answer": "accept", "meta": {"score": 0.9}},
        {"text": "b", "spans": [{"start": 0, "end": 1, "label": "ORG"}], "answer": "reject", "meta": {"score": 0.8}},
        {"text": "c", "spans": [{"start": 0, "end": 1, "label": "PER"}], "answer": "reject", "meta": {"score": 0.1}},
        {"text": "d", "label": "SPORT", "answer": "accept", "meta": {"score": 0.6}},
        {"text": "e", "label": "SPORT", "answer": "ignore", "meta": {"score": 0.5}},  # ignores don't count
        {"text": "f", "label": "SPORT", "answer": "accept"},  # no score: not counted for accuracy
    ]
    db.add_answers("ds", rows[:3], session_id="ds-alex")
    db.add_answers("ds", rows[3:])
    info = db.stats("ds")
    assert info["dataset"] == "ds" and info["total"] == 6
    assert info["answers"] == {"accept": 3, "reject": 2, "ignore": 1}
    assert info["labels"] == {"ORG": {"accept": 1, "reject": 1}, "PER": {"reject": 1}, "SPORT": {"accept": 2, "ignore": 1}}
    assert info["sessions"] == {"": {"accept": 2, "ignore": 1}, "ds-alex": {"accept": 1, "reject": 2}}
    # right: a (0.9 accept), c (0.1 reject), d (0.6 accept); wrong: b (0.8 reject)
    assert info["model_accuracy"] == pytest.approx(0.75) and info["model_accuracy_n"] == 4
    assert info["model_accuracy_last_100"] == pytest.approx(0.75)


def test_stats_gives_seconds_on_screen_per_question_type(db: Database) -> None:
    tokens = [{"text": "w", "start": 0, "end": 1, "id": i, "ws": True} for i in range(10)]
    rows = [
        *({"text": f"b{i}", "answer": "accept", "_view_seconds": s} for i, s in enumerate([2.0, 3.0, 9.0])),
        {"text": "v1", "answer": "reject", "_question": "verify", "tokens": tokens, "_view_seconds": 6.0},
        {"text": "v2", "answer": "accept", "_question": "verify", "tokens": tokens, "_view_seconds": 4.0},
        {"text": "x", "answer": "ignore", "_view_seconds": 1.0},  # ignored: not a decision
        {"text": "y", "answer": "accept", "_view_seconds": "abc"},  # not a number: left out
    ]
    db.add_answers("ds", rows)
    info = db.stats("ds")["question_seconds"]
    assert info["binary"] == {"n": 3, "median": 3.0, "median_per_token": None}
    assert info["verify"] == {"n": 2, "median": 5.0, "median_per_token": 0.5}


def test_stats_without_scores(db: Database) -> None:
    db.add_answers("ds", answers(("a", "accept")))
    info = db.stats("ds")
    assert info["model_accuracy"] is None and info["model_accuracy_n"] == 0 and info["model_accuracy_last_100"] is None


def test_task_labels() -> None:
    assert task_labels({"text": "a", "spans": [{"label": "A"}, {"label": "B"}], "label": "C"}) == ["A", "B"]
    assert task_labels({"text": "a", "label": "C"}) == ["C"]
    assert task_labels({"text": "a"}) == []


def test_sqlite_url(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'url.db'}"
    db = Database(url)
    db.add_answers("ds", answers(("a", "accept")))
    assert db.db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
    db.close()
    assert [t["text"] for t in Database(tmp_path / "url.db").get_answers("ds")] == ["a"]


def test_two_stores_in_one_process_stay_apart(tmp_path: Path, db_target: str) -> None:
    first, second = Database(db_target), Database(tmp_path / "second.db")
    first.add_answers("ds", answers(("only in first", "accept")))
    assert first.datasets() == ["ds"] and second.datasets() == []
    second.add_answers("other", answers(("only in second", "accept")))
    assert [t["text"] for t in first.get_answers("ds")] == ["only in first"]
    assert first.datasets() == ["ds"] and second.datasets() == ["other"]


@pytest.mark.parametrize("target,needle", [
    ("a_directory", "is a directory: pass a file path to --db"),
    ("not_a_db.db", "file is not a database"),
    ("mysql+bogus://x/y", "Can't use database URL"),
])
def test_bad_targets_are_one_line_errors(tmp_path: Path, target: str, needle: str) -> None:
    (tmp_path / "a_directory").mkdir()
    (tmp_path / "not_a_db.db").write_text("just some text, not SQLite\n" * 20, encoding="utf8")
    path = target if "://" in target else str(tmp_path / target)
    with pytest.raises(UserError) as e:
        Database(path)
    assert needle in str(e.value) and "\n" not in str(e.value)


def test_parent_folders_are_created(tmp_path: Path) -> None:
    Database(tmp_path / "deep" / "er" / "x.db").add_dataset("ds")
    assert (tmp_path / "deep" / "er" / "x.db").is_file()


def test_a_batch_with_one_task_twice_stores_the_last_answer(db: Database) -> None:
    # One upsert may not meet its own row twice in PostgreSQL: the batch is made one row per key first.
    batch = answers(("a", "accept"), ("b", "accept"), ("a", "reject"))
    assert db.add_answers("ds", batch) == 3
    assert [(t["text"], t["answer"]) for t in db.get_answers("ds")] == [("a", "reject"), ("b", "accept")]


def test_a_millisecond_timestamp_fits(db: Database) -> None:
    db.add_answers("ds", answers(("a", "accept"), _timestamp=1_700_000_000_000))
    assert [t["_timestamp"] for t in db.get_answers("ds")] == [1_700_000_000_000]


def test_writes_from_threads(db: Database) -> None:
    # The server writes from request threads while the worker reads: one lock, one transaction each.
    def write(n: int) -> None:
        db.add_answers("ds", answers(*((f"{n}-{i}", "accept") for i in range(20))), session_id=f"s{n}")

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert db.count("ds") == 80


def test_connect_uses_binanno_db_then_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BINANNO_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("BINANNO_DB", raising=False)
    assert Path(connect().target) == tmp_path / "home" / "binanno.db"
    monkeypatch.setenv("BINANNO_DB", str(tmp_path / "env.db"))
    assert Path(connect().target) == tmp_path / "env.db"
    assert Path(connect(str(tmp_path / "arg.db")).target) == tmp_path / "arg.db"


def test_no_postgresql_server_is_a_one_line_error_without_the_password() -> None:
    from conftest import free_port

    with pytest.raises(UserError) as e:
        Database(f"postgresql://ann:secret@127.0.0.1:{free_port()}/answers")
    message = str(e.value)
    assert "Can't open database 'postgresql://ann:***@127.0.0.1:" in message and "pass another --db" in message
    assert "secret" not in message and "\n" not in message
