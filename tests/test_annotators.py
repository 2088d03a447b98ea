"""Annotators against the real server: allowed_sessions, per-session tokens, per-session datasets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import run_cli, write_jsonl


def texts(n: int) -> list[dict[str, Any]]:
    return [{"text": f"Sentence number {i} about the weather."} for i in range(n)]


def ask(server: Any, session_id: str | None, **kwargs: Any) -> httpx.Response:
    return httpx.post(server.url + "/get_session_questions", json={"session_id": session_id}, timeout=60, **kwargs)


def test_allowed_sessions_serve_only_the_named_sessions(start_server: Any, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", texts(20))
    server = start_server("mark", "ds", str(source), env={"BINANNO_ALLOWED_SESSIONS": "alice, bob"})
    page = httpx.get(server.url + "/?session=eve")
    assert page.status_code == 403 and "not allowed" in page.text and "?session=" in page.text
    assert httpx.get(server.url + "/").status_code == 403  # no name at all
    assert httpx.get(server.url + "/?session=alice").status_code == 200
    for session_id in ("ds-eve", None):
        refused = ask(server, session_id)
        assert refused.status_code == 403 and "not allowed" in refused.json()["error"]
    answer = httpx.post(server.url + "/give_answers", json={"answers": [{"text": "x", "answer": "accept"}], "session_id": "ds-eve"})
    assert answer.status_code == 403
    assert len(ask(server, "ds-alice").json()["tasks"]) == 10
    server.stop()


def test_session_tokens_sign_in_as_a_session(start_server: Any, tmp_path: Path, home: Path) -> None:
    tokens = tmp_path / "tokens.json"
    tokens.write_text(json.dumps({"alice": "alice-secret-1", "bob": "bob-secret-22"}), encoding="utf8")
    source = write_jsonl(tmp_path / "in.jsonl", texts(20))
    server = start_server("mark", "ds", str(source), env={"BINANNO_SESSION_TOKENS": str(tokens)})
    assert ask(server, "ds-alice").status_code == 401
    assert ask(server, "ds-alice", auth=("alice", "bob-secret-22")).status_code == 401  # bob's token isn't alice's
    assert ask(server, None, headers={"Authorization": "Bearer wrong-token"}).status_code == 401
    # The token decides the session, whatever the request names.
    alice = ask(server, "ds-bob", headers={"Authorization": "Bearer alice-secret-1"}).json()
    assert alice["session_id"] == "ds-alice" and {t["_session_id"] for t in alice["tasks"]} == {"ds-alice"}
    bob = ask(server, None, auth=("bob", "bob-secret-22")).json()
    assert bob["session_id"] == "ds-bob"
    stored = httpx.post(server.url + "/give_answers", auth=("bob", "bob-secret-22"), timeout=60, json={
        "answers": [{**t, "answer": "reject"} for t in bob["tasks"][:3]], "session_id": "ds-alice"})
    assert stored.status_code == 200 and stored.json()["stored"] == 3
    server.post("/give_answers", {"answers": [{**t, "answer": "accept"} for t in alice["tasks"]], "session_id": None},
                headers={"Authorization": "Bearer alice-secret-1"})
    server.stop()

    # Each session's answers are also findable under its own name, as in Prodigy.
    out = run_cli("db-out", "ds-bob", "--db", str(server.db), home=home)
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert out.returncode == 0 and len(rows) == 3 and {r["_session_id"] for r in rows} == {"ds-bob"}
    assert {r["answer"] for r in rows} == {"reject"}
    stats = json.loads(run_cli("stats", "ds-alice", "--json", "--db", str(server.db), home=home).stdout)
    assert stats["total"] == 10
    assert json.loads(run_cli("stats", "ds", "--json", "--db", str(server.db), home=home).stdout)["total"] == 13


def test_a_bad_tokens_file_is_one_line_at_start(tmp_path: Path, home: Path) -> None:
    tokens = tmp_path / "tokens.json"
    tokens.write_text(json.dumps({"alice": "same-token", "bob": "same-token"}), encoding="utf8")
    source = write_jsonl(tmp_path / "in.jsonl", texts(3))
    result = run_cli("mark", "ds", str(source), "--db", str(tmp_path / "x.db"), home=home,
                     env={"BINANNO_SESSION_TOKENS": str(tokens)})
    assert result.returncode == 1 and "two sessions share a token" in result.stderr
    assert "Traceback" not in result.stderr
