"""db-out, db-in, drop and stats through the real `binanno` command, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers_core import assert_one_line_error, binanno, malformed_at_line_7, read_jsonl, write_jsonl

from binanno.components.db import Database
from binanno.hashing import set_hashes

TASKS: list[dict[str, Any]] = [
    {"text": "Apple buys a startup", "spans": [{"start": 0, "end": 5, "token_start": 0, "token_end": 0, "label": "ORG"}],
     "answer": "accept", "meta": {"source": "news", "score": 0.8}},
    {"text": "Is this about sport?", "label": "SPORT", "answer": "reject"},
    {"text": "Café crème à Paris", "spans": [{"start": 13, "end": 18, "label": "GPE"}], "answer": "ignore"},
    {"text": "No answer in the file"},
]


@pytest.fixture
def db_path(db_target: str) -> str:
    """A SQLite file, then a PostgreSQL URL: every test here runs on both."""
    return db_target


def run(tmp_path: Path, db_path: str, *args: str, input: str | None = None) -> Any:
    return binanno(*args, "--db", str(db_path), home=tmp_path, input=input)


def test_round_trip_preserves_tasks(tmp_path: Path, db_path: str) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", TASKS)
    proc = run(tmp_path, db_path, "db-in", "news", str(source))
    assert proc.returncode == 0 and "Imported 4 answers into 'news': 4 new rows" in proc.stdout and not proc.stderr
    out = run(tmp_path, db_path, "db-out", "news")
    assert out.returncode == 0 and not out.stderr
    exported = read_jsonl(out.stdout)
    assert len(exported) == 4
    for original, task in zip(TASKS, exported):
        for key, value in original.items():
            assert task[key] == value
        assert task["_task_hash"] == set_hashes({k: v for k, v in original.items() if k != "answer"})["_task_hash"]
    assert exported[3]["answer"] == "accept"  # the default for a task without one
    assert "Café crème" in out.stdout  # written as UTF-8, not \u escapes


def test_db_in_rehashes(tmp_path: Path, db_path: str) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", [{"text": "a", "label": "X", "_input_hash": 1, "_task_hash": 2}])
    assert run(tmp_path, db_path, "db-in", "ds", str(source)).returncode == 0
    (task,) = Database(db_path).get_answers("ds")
    assert task["_task_hash"] == set_hashes({"text": "a", "label": "X"})["_task_hash"]


def test_db_in_answer_option_overrides(tmp_path: Path, db_path: str) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", TASKS)
    assert run(tmp_path, db_path, "db-in", "ds", str(source), "--answer", "reject").returncode == 0
    assert {t["answer"] for t in Database(db_path).get_answers("ds")} == {"reject"}


def test_db_in_from_stdin_and_csv(tmp_path: Path, db_path: str) -> None:
    proc = run(tmp_path, db_path, "db-in", "ds", "-", input='{"text": "piped", "answer": "reject"}\n')
    assert proc.returncode == 0, proc.stderr
    csv = tmp_path / "in.csv"
    csv.write_text("text,label\nfrom csv,X\n", encoding="utf8")
    assert run(tmp_path, db_path, "db-in", "ds", str(csv)).returncode == 0
    assert [(t["text"], t["answer"]) for t in Database(db_path).get_answers("ds")] == [("piped", "reject"), ("from csv", "accept")]


def test_db_in_bad_line_stores_nothing(tmp_path: Path, db_path: str) -> None:
    db = Database(db_path)
    db.add_answers("ds", [{"text": "already there", "answer": "accept"}])
    before = list(db.get_answers("ds"))
    db.close()
    path = malformed_at_line_7(tmp_path / "file.jsonl")
    proc = run(tmp_path, db_path, "db-in", "ds", str(path))
    assert_one_line_error(proc, f"{path}:7: malformed JSON", "--skip-invalid")
    proc = run(tmp_path, db_path, "db-in", "fresh", str(path))
    assert_one_line_error(proc, f"{path}:7:")
    db = Database(db_path)
    assert list(db.get_answers("ds")) == before
    assert db.datasets() == ["ds"]


def test_db_in_bad_answer_value(tmp_path: Path, db_path: str) -> None:
    path = write_jsonl(tmp_path / "in.jsonl", [{"text": "a", "answer": "accept"}, {"text": "b", "answer": "maybe"}])
    assert_one_line_error(run(tmp_path, db_path, "db-in", "ds", str(path)), "has answer 'maybe'", "--answer")
    assert Database(db_path).datasets() == []


def test_db_in_skip_invalid(tmp_path: Path, db_path: str) -> None:
    path = malformed_at_line_7(tmp_path / "file.jsonl")
    proc = run(tmp_path, db_path, "db-in", "ds", str(path), "--skip-invalid")
    assert proc.returncode == 0 and "Traceback" not in proc.stderr
    assert "Skipped 1 invalid record(s)" in proc.stderr and ":7: malformed JSON" in proc.stderr
    assert "Imported 9 answers" in proc.stdout
    assert Database(db_path).count("ds") == 9


def test_db_in_missing_file(tmp_path: Path, db_path: str) -> None:
    assert_one_line_error(run(tmp_path, db_path, "db-in", "ds", str(tmp_path / "nope.jsonl")),
                          "Can't find input file", "nope.jsonl")


def test_db_out_to_a_file_with_answer_filter(tmp_path: Path, db_path: str) -> None:
    Database(db_path).add_answers("ds", [{**t, "answer": t.get("answer", "accept")} for t in TASKS])
    out = tmp_path / "accepted.jsonl"
    proc = run(tmp_path, db_path, "db-out", "ds", str(out), "--answer", "accept")
    assert proc.returncode == 0 and proc.stdout == ""
    assert "Exported 2 answers from 'ds'" in proc.stderr
    assert [t["text"] for t in read_jsonl(out.read_text(encoding="utf8"))] == [TASKS[0]["text"], TASKS[3]["text"]]


def test_db_out_unknown_dataset(tmp_path: Path, db_path: str) -> None:
    Database(db_path).add_dataset("news")
    out = tmp_path / "out.jsonl"
    proc = run(tmp_path, db_path, "db-out", "nwes", str(out))
    assert_one_line_error(proc, "Unknown dataset 'nwes'", "Did you mean: news?")
    assert not out.exists()  # no empty file left behind


def test_drop_needs_yes_without_a_tty(tmp_path: Path, db_path: str) -> None:
    Database(db_path).add_answers("ds", [{"text": "a", "answer": "accept"}, {"text": "b", "answer": "reject"}])
    proc = run(tmp_path, db_path, "drop", "ds", input="y\n")  # stdin is a pipe, not a tty
    assert_one_line_error(proc, "Dropping 'ds' deletes 2 answers", "--yes")
    assert Database(db_path).count("ds") == 2
    proc = run(tmp_path, db_path, "drop", "ds", "--yes")
    assert proc.returncode == 0 and "Dropped 'ds' (2 answers)" in proc.stdout
    assert Database(db_path).datasets() == []
    assert_one_line_error(run(tmp_path, db_path, "drop", "ds", "-y"), "Unknown dataset 'ds'")


def test_stats(tmp_path: Path, db_path: str) -> None:
    empty = run(tmp_path, db_path, "stats")
    assert empty.returncode == 0 and "(no datasets yet)" in empty.stdout
    Database(db_path).add_answers("ds", [{**t, "answer": t.get("answer", "accept"), "_view_seconds": 2.5} for t in TASKS])
    listing = run(tmp_path, db_path, "stats", "--json")
    assert json.loads(listing.stdout) == {"ds": 4}
    info = json.loads(run(tmp_path, db_path, "stats", "ds", "--json").stdout)
    assert info["total"] == 4 and info["answers"] == {"accept": 2, "reject": 1, "ignore": 1}
    assert info["labels"]["ORG"] == {"accept": 1} and info["model_accuracy"] == 1.0
    table = run(tmp_path, db_path, "stats", "ds")
    assert table.returncode == 0
    for needle in ("Dataset 'ds': 4 answers", "accept: 2, reject: 1, ignore: 1", "model right at question time: 100.0% of 1",
                   "per label:", "SPORT", "per session:", "seconds on screen per question type", "binary"):
        assert needle in table.stdout, needle
    assert_one_line_error(run(tmp_path, db_path, "stats", "nope"), "Unknown dataset 'nope'")


def test_default_database_is_in_binanno_home(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", [{"text": "a"}])
    assert binanno("db-in", "ds", str(source), home=tmp_path).returncode == 0
    assert json.loads(binanno("stats", "--json", home=tmp_path).stdout) == {"ds": 1}
    assert (tmp_path / "binanno.db").is_file()


def test_db_directory_is_one_line_error(tmp_path: Path) -> None:
    assert_one_line_error(binanno("stats", "--db", str(tmp_path), home=tmp_path), "is a directory")


def test_db_in_span_outside_its_text(tmp_path: Path, db_path: str) -> None:
    path = write_jsonl(tmp_path / "in.jsonl", [{"text": "fine"}, {"text": "short", "spans": [{"start": 3, "end": 9, "label": "X"}]}])
    assert_one_line_error(run(tmp_path, db_path, "db-in", "ds", str(path)), f"{path}:2: span [3, 9) is outside the text (length 5)")
    assert Database(db_path).datasets() == []
