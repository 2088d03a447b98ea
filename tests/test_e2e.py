"""The real `binanno` command in a subprocess, driven over HTTP like a browser would."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conftest import SAMPLE_SPANS, run_cli


def test_answer_restart_and_see_no_repeats(start_server: Any, home: Path, tmp_path: Path) -> None:
    server = start_server("mark", "news", str(SAMPLE_SPANS))
    first = server.questions()
    assert len(first) == 10 and all(len(t["spans"]) == 1 for t in first)
    server.answer(first[:6], "accept")
    server.answer(first[6:], "reject")
    output = server.stop()
    assert server.proc.returncode == 0
    assert "6 accept, 4 reject" in output and "Traceback" not in output

    again = start_server("mark", "news", str(SAMPLE_SPANS))
    asked = {t["_task_hash"] for t in first}
    later = []
    while batch := again.questions():
        later += batch
        again.answer(batch, "ignore")
    assert later and not asked & {t["_task_hash"] for t in later}
    total = sum(len(json.loads(line)["spans"]) for line in SAMPLE_SPANS.read_text().splitlines())
    assert len(later) + len(first) == total
    again.stop()

    exported = run_cli("db-out", "news", "--db", str(server.db), home=home)
    rows = [json.loads(line) for line in exported.stdout.splitlines()]
    assert len(rows) == total and len({r["_task_hash"] for r in rows}) == total


def test_acknowledged_answers_survive_ctrl_c_at_once(start_server: Any, home: Path) -> None:
    server = start_server("mark", "news", str(SAMPLE_SPANS))
    tasks = server.questions()
    reply = server.answer(tasks, "accept")
    assert reply["stored"] == 10
    server.stop()  # straight after the acknowledgement
    stats = json.loads(run_cli("stats", "news", "--json", "--db", str(server.db), home=home).stdout)
    assert stats["answers"] == {"accept": 10}


def test_a_port_in_use_is_a_one_line_error(start_server: Any, home: Path, tmp_path: Path) -> None:
    server = start_server("mark", "news", str(SAMPLE_SPANS))
    result = run_cli("mark", "other", str(SAMPLE_SPANS), "--port", str(server.port), "--db", str(tmp_path / "x.db"), home=home)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and f"{server.port}" in result.stderr and "--port" in result.stderr
    assert server.questions()  # the running server is untouched


def test_named_sessions_get_their_own_queue(start_server: Any) -> None:
    server = start_server("mark", "news", str(SAMPLE_SPANS))
    alice = server.questions("news-alice")
    bob = server.questions("news-bob")
    assert not {t["_task_hash"] for t in alice} & {t["_task_hash"] for t in bob}
    server.answer(alice, "accept", "news-alice")
    server.stop()
    sessions = {json.loads(line)["_session_id"] for line in run_cli("db-out", "news", "--db", str(server.db), home=server.db.parent).stdout.splitlines()}
    assert sessions == {"news-alice"}
