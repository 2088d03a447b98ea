"""One PostgreSQL database shared by a team: two servers (two recipes, two datasets) started at once on
an empty database, annotators saving to both while `db-in`, `db-out` and `stats` run beside them."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from conftest import write_jsonl
from helpers_core import binanno, read_jsonl

from binanno.components.db import Database


def annotate_all(server: Any, session: str, done: list[str], errors: list[BaseException]) -> None:
    """Answer every question a session gets, recording what the server acknowledged."""
    try:
        while tasks := server.questions(session):
            assert server.answer(tasks, session_id=session)["stored"] == len(tasks)
            done.extend(t["text"] for t in tasks)
    except BaseException as e:  # reported by the test's thread
        errors.append(e)


def test_servers_and_commands_share_one_postgresql_database(tmp_path: Path, start_server: Any, postgres: Any) -> None:
    url = postgres.new_database()
    texts = write_jsonl(tmp_path / "texts.jsonl", [{"text": f"Shared text {i}."} for i in range(120)])
    # Both servers create the schema on the empty database at the same moment.
    servers: dict[str, Any] = {}
    starters = [threading.Thread(target=lambda name=name, args=args: servers.__setitem__(name, start_server(*args, db=url)))
                for name, args in [("marks", ("mark", "marks", str(texts))),
                                   ("topics", ("textcat.manual", "topics", str(texts), "--label", "SPORT"))]]
    for thread in starters:
        thread.start()
    for thread in starters:
        thread.join()
    assert set(servers) == {"marks", "topics"}

    done: dict[tuple[str, str], list[str]] = {}
    errors: list[BaseException] = []
    writers = []
    for name, server in servers.items():
        for session in ("alex", "sam"):
            done[name, session] = []
            writers.append(threading.Thread(target=annotate_all, args=(server, session, done[name, session], errors)))
    for thread in writers:
        thread.start()
    # Meanwhile, the commands read and write the same database.
    imports = write_jsonl(tmp_path / "imported.jsonl", [{"text": f"Imported {i}.", "answer": "accept"} for i in range(300)])
    for _ in range(3):
        assert binanno("db-in", "imported", str(imports), "--db", url, home=tmp_path).returncode == 0
        for dataset in ("marks", "topics"):
            stats = binanno("stats", dataset, "--db", url, home=tmp_path)
            assert stats.returncode == 0, stats.stderr
            out = binanno("db-out", dataset, "--db", url, home=tmp_path)
            assert out.returncode == 0, out.stderr
    for thread in writers:
        thread.join()
    assert not errors, errors

    db = Database(url)
    for name in ("marks", "topics"):
        stored = [(t["_session_id"], t["text"]) for t in db.get_answers(name)]
        assert len(stored) == len(set(stored)) == sum(len(done[name, s]) for s in ("alex", "sam"))
        for session in ("alex", "sam"):
            assert sorted(t for s, t in stored if s.endswith(session)) == sorted(done[name, session])
    assert db.count("imported") == 300  # three imports of one file: each replaced the same rows
    assert sorted(db.datasets()) == ["imported", "marks", "topics"]
    db.close()
    marks = json.loads(binanno("stats", "marks", "--db", url, "--json", home=tmp_path).stdout)
    assert marks["total"] == marks["answers"]["accept"] == sum(len(done["marks", s]) for s in ("alex", "sam"))
    exported = read_jsonl(binanno("db-out", "topics", "--db", url, home=tmp_path).stdout)
    assert len(exported) == sum(len(done["topics", s]) for s in ("alex", "sam"))


def test_binanno_db_url_and_stats_without_the_password(tmp_path: Path, postgres: Any) -> None:
    url = postgres.new_database().replace("binanno@", "binanno:secret@")  # the test cluster trusts any password
    source = write_jsonl(tmp_path / "in.jsonl", [{"text": "a", "answer": "accept"}])
    assert binanno("db-in", "news", str(source), "--db", url, home=tmp_path).returncode == 0
    proc = binanno("stats", home=tmp_path, env={"BINANNO_DB": url})  # the URL from the environment
    assert proc.returncode == 0 and "news" in proc.stdout and "binanno:***@127.0.0.1" in proc.stdout
    assert "secret" not in proc.stdout + proc.stderr
