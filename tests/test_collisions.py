"""Two texts whose 32-bit Prodigy hashes collide stay two tasks: in the stream, in the store (SQLite
and PostgreSQL), in db-in's count, and in a database made before the 128-bit keys (migrated when opened)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from helpers_core import binanno, read_jsonl, write_jsonl

from binanno.components.db import Database
from binanno.components.loaders import get_stream
from binanno.hashing import input_key, set_hashes, task_key

# Found by brute force: both pairs of hashes are equal.
TWINS = ["Sentence number 56944 about the weather.", "Sentence number 77375 about the weather."]


def test_the_twins_share_prodigy_hashes_but_not_keys() -> None:
    a, b = (set_hashes({"text": t}) for t in TWINS)  # type: ignore[misc]
    assert (a["_input_hash"], a["_task_hash"]) == (b["_input_hash"], b["_task_hash"])
    assert task_key(a) != task_key(b) and input_key(a) != input_key(b)
    # A question and its answer share the key, however the answer changed the spans.
    question = set_hashes({"text": TWINS[0], "spans": [{"start": 0, "end": 8, "label": "X"}]})  # type: ignore[typeddict-item]
    answer = {**question, "spans": [], "answer": "accept"}
    assert task_key(answer) == task_key(question)  # type: ignore[arg-type]


def test_the_twins_are_two_rows_and_two_questions(tmp_path: Path, start_server: Any, db_target: str) -> None:
    source = write_jsonl(tmp_path / "twins.jsonl", [{"text": t} for t in TWINS])
    assert [t["text"] for t in get_stream(source)] == TWINS
    db = Database(db_target)
    assert db.add_answers("ds", [{"text": t, "answer": "accept"} for t in TWINS]) == 2
    assert db.count("ds") == 2
    db.close()
    server = start_server("mark", "served", str(source), db=db_target)
    tasks = server.questions()
    assert sorted(t["text"] for t in tasks) == sorted(TWINS)
    assert server.answer(tasks)["stored"] == 2
    assert server.questions() == []
    server.stop()
    assert Database(db_target).count("served") == 2


def test_db_in_reports_the_rows_stored(tmp_path: Path, db_target: str) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", [{"text": t, "answer": "accept"} for t in TWINS] + [{"text": TWINS[0], "answer": "reject"}])
    proc = binanno("db-in", "ds", str(source), "--db", db_target, home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Imported 3 answers into 'ds': 2 new rows (1 replaced an answer to the same task by the same session)" in proc.stdout
    out = binanno("db-out", "ds", "--db", db_target, home=tmp_path)
    assert sorted((t["text"], t["answer"]) for t in read_jsonl(out.stdout)) == [(TWINS[0], "reject"), (TWINS[1], "accept")]


def old_database(path: Path, rows: list[dict[str, Any]]) -> None:
    """The schema before the keys: one row per (dataset, task_hash, session_id)."""
    with sqlite3.connect(path) as con:
        con.executescript("""
            CREATE TABLE dataset (id INTEGER PRIMARY KEY, name VARCHAR(255) NOT NULL UNIQUE, created INTEGER NOT NULL, meta TEXT NOT NULL);
            CREATE TABLE example (id INTEGER PRIMARY KEY, dataset_id INTEGER NOT NULL REFERENCES dataset (id) ON DELETE CASCADE,
                input_hash INTEGER NOT NULL, task_hash INTEGER NOT NULL, session_id VARCHAR(255) NOT NULL,
                answer VARCHAR(255) NOT NULL, timestamp INTEGER NOT NULL, content TEXT NOT NULL);
            CREATE INDEX example_dataset_id ON example (dataset_id);
            CREATE INDEX example_input_hash ON example (input_hash);
            CREATE INDEX example_task_hash ON example (task_hash);
            CREATE UNIQUE INDEX example_dataset_id_task_hash_session_id ON example (dataset_id, task_hash, session_id);
            INSERT INTO dataset VALUES (1, 'ds', 0, '{}');
        """)
        for row in rows:
            task = set_hashes(dict(row))  # type: ignore[arg-type]
            con.execute("INSERT INTO example (dataset_id, input_hash, task_hash, session_id, answer, timestamp, content) "
                        "VALUES (1, ?, ?, '', ?, 0, ?)", (task["_input_hash"], task["_task_hash"], task["answer"], json.dumps(task)))


def test_an_old_database_is_migrated_and_keeps_its_answers(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old_database(path, [{"text": TWINS[0], "answer": "accept"}, {"text": "other", "answer": "reject"}])
    db = Database(path)
    assert db.count("ds") == 2
    # The twin of a stored answer used to overwrite it; now it is a row of its own.
    db.add_answers("ds", [{"text": TWINS[1], "answer": "accept"}])
    assert sorted(t["text"] for t in db.get_answers("ds")) == sorted([*TWINS, "other"])
    # A retried answer still replaces its own row.
    db.add_answers("ds", [{"text": "other", "answer": "accept"}])
    assert db.count("ds") == 3 and db.stats("ds")["answers"] == {"accept": 3}
    assert db.keys(["ds"]) == {task_key(set_hashes({"text": t})) for t in [*TWINS, "other"]}  # type: ignore[misc]
    db.close()
    assert Database(path).count("ds") == 3  # opening it again migrates nothing twice


def test_an_old_postgresql_database_is_migrated(postgres: Any) -> None:
    import psycopg

    url = postgres.new_database()
    with psycopg.connect(url, autocommit=True) as con:
        # The schema peewee made before the keys, with its unique index on the 32-bit task hash.
        con.execute("""
            CREATE TABLE dataset (id SERIAL PRIMARY KEY, name VARCHAR(255) NOT NULL UNIQUE, created INTEGER NOT NULL, meta TEXT NOT NULL);
            CREATE TABLE example (id SERIAL PRIMARY KEY, dataset_id INTEGER NOT NULL REFERENCES dataset (id) ON DELETE CASCADE,
                input_hash BIGINT NOT NULL, task_hash BIGINT NOT NULL, session_id VARCHAR(255) NOT NULL,
                answer VARCHAR(255) NOT NULL, timestamp INTEGER NOT NULL, content TEXT NOT NULL);
            CREATE UNIQUE INDEX example_dataset_id_task_hash_session_id ON example (dataset_id, task_hash, session_id);
            INSERT INTO dataset (name, created, meta) VALUES ('ds', 0, '{}');
        """)
        for row in [{"text": TWINS[0], "answer": "accept"}, {"text": "other", "answer": "reject"}]:
            task = set_hashes(dict(row))  # type: ignore[arg-type]
            con.execute("INSERT INTO example (dataset_id, input_hash, task_hash, session_id, answer, timestamp, content) "
                        "VALUES (1, %s, %s, '', %s, 0, %s)", (task["_input_hash"], task["_task_hash"], task["answer"], json.dumps(task)))
    db = Database(url)
    assert db.count("ds") == 2
    db.add_answers("ds", [{"text": TWINS[1], "answer": "accept"}, {"text": "other", "answer": "accept"}])
    assert sorted(t["text"] for t in db.get_answers("ds")) == sorted([*TWINS, "other"])
    assert db.stats("ds")["answers"] == {"accept": 3}
    db.close()
    assert Database(url).count("ds") == 3


def twin_answers(session: str) -> list[dict[str, Any]]:
    return [{"text": t, "spans": [{"start": 0, "end": 8, "label": "X"}], "answer": "accept", "_session_id": session}
            for t in TWINS]


def test_training_merges_the_twins_as_two_texts() -> None:
    from binanno.corpus import Corpus

    corpus = Corpus()
    assert corpus.add("ner", twin_answers("ds-a")) == 2
    assert sorted(g.text for g in corpus.gold.values()) == sorted(TWINS)


def test_review_shows_the_twins_as_two_inputs(tmp_path: Path, monkeypatch: Any) -> None:
    from binanno.core import get_recipe

    db = Database(tmp_path / "twins.db")
    for session in ("ds-a", "ds-b"):
        db.add_answers("ds", twin_answers(session))
    db.close()
    monkeypatch.setenv("BINANNO_DB", str(tmp_path / "twins.db"))
    components = get_recipe("review")(dataset="final", in_sets=["ds"], view_id="ner_manual", show_all=True)
    tasks = list(components["stream"])
    assert sorted(t["text"] for t in tasks) == sorted(TWINS)
    assert all(len(t["versions"]) == 1 and sorted(t["versions"][0]["sessions"]) == ["ds-a", "ds-b"] for t in tasks)
