"""Malformed answers and requests against the real server: 400s naming the answer and field, no 5xx,
nothing of a refused batch stored, and the commands that read the dataset still work afterwards."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
from conftest import SAMPLE_SPANS, Server, run_cli

from binanno.answers import answer_error

GOOD = {"text": "Maria Lopez joined.", "spans": [{"start": 0, "end": 11, "label": "PERSON"}], "answer": "accept",
        "_input_hash": 1, "_task_hash": 2, "_timestamp": 1700000000, "meta": {"score": 0.5}}

# (field, value, the field the error must name); value None removes the field.
BAD_FIELDS = [
    ("answer", None, "answer"), ("answer", "maybe", "answer"), ("answer", 5, "answer"),
    ("text", None, "text"), ("text", 5, "text"), ("text", ["a"], "text"),
    ("spans", "oops", "spans"), ("spans", [1], "spans[0]"), ("spans", [{"start": "a", "end": 3}], "spans[0]"),
    ("spans", [{"start": 5, "end": 2, "label": "X"}], "spans[0]"), ("spans", [{"start": 0, "end": 99}], "spans[0]"),
    ("spans", [{"start": -1, "end": 2}], "spans[0]"), ("spans", [{"start": True, "end": 2}], "spans[0]"),
    ("spans", [{"start": 0, "end": 2, "label": 5}], "spans[0]"), ("spans", [{"start": 0, "end": 2, "token_start": "x"}], "spans[0]"),
    ("_task_hash", "abc", "_task_hash"), ("_task_hash", 1.5, "_task_hash"), ("_task_hash", 2**70, "_task_hash"),
    ("_task_hash", True, "_task_hash"), ("_input_hash", "abc", "_input_hash"),
    ("_timestamp", "abc", "_timestamp"), ("_timestamp", -1, "_timestamp"), ("_timestamp", 1e300, "_timestamp"),
    ("_timestamp", float("nan"), "_timestamp"), ("meta", {"score": float("nan")}, "meta.score"),
    ("meta", {"score": float("inf")}, "meta.score"), ("meta", "x", "meta"), ("label", 5, "label"),
    ("accept", "x", "accept"), ("accept", [{"a": 1}], "accept"), ("options", "x", "options"), ("options", [1], "options"),
    ("tokens", "x", "tokens"), ("tokens", [1], "tokens"), ("_session_id", 5, "_session_id"),
    ("text", "\ud800", "text"), ("meta", {"note": "\udfff"}, "meta.note"),
]


def with_field(field: str, value: Any) -> dict[str, Any]:
    task = {k: v for k, v in GOOD.items() if k != field}
    if value is not None:
        task[field] = value
    return task


def test_a_good_answer_passes() -> None:
    assert answer_error(GOOD) is None
    assert answer_error({"text": "", "answer": "ignore"}) is None


@pytest.mark.parametrize(("field", "value", "named"), BAD_FIELDS)
def test_each_bad_field_is_named(field: str, value: Any, named: str) -> None:
    error = answer_error(with_field(field, value))
    assert error is not None and error.startswith(named + ":")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("malformed")
    (tmp / "home").mkdir()
    srv = Server(["mark", "ds", str(SAMPLE_SPANS)], tmp / "home", tmp / "binanno.db")
    yield srv
    srv.stop()


def post(server: Server, path: str, content: str | bytes) -> httpx.Response:
    return httpx.post(server.url + path, content=content, headers={"content-type": "application/json"}, timeout=60)


def answered(server: Server) -> int:
    return int(httpx.get(server.url + "/status", timeout=60).json()["status"]["answered"])


def body(*answers: Any, session_id: Any = None) -> str:
    # allow_nan: the point is to send what a careless client would.
    return json.dumps({"answers": list(answers), "session_id": session_id})


DEEP = 100_000
MALFORMED_ANSWERS = [
    "not json", "", "{", "[1, 2]", "null", "5", '"text"', "{}", '{"answers": "nope"}', '{"answers": {}}',
    '{"answers": null}', '{"answers": [1]}', '{"answers": [null]}', '{"answers": [[]]}', '{"answers": ["x"]}',
    "[" * DEEP + "]" * DEEP, '{"answers": ' + "[" * DEEP + "]" * DEEP + "}",
    '{"answers": [{"text": "x", "answer": "accept", "n": 1' + "0" * 5000 + "}]}",
    '{"answers": [{"text": "x", "answer": "accept", "_timestamp": 1e999}]}',
    '{"answers": [{"text": "x", "answer": "accept", "meta": {"score": NaN}}]}',
    '{"answers": [{"text": "x", "answer": "accept", "meta": {"score": -Infinity}}]}',
    b'{"answers": [{"text": "\xff\xfe", "answer": "accept"}]}',
    body(GOOD, session_id=5), body(GOOD, session_id=[1]), body(GOOD, session_id={"a": 1}),
    body(GOOD, session_id="x" * 10_000), body(GOOD, session_id="ds-\x1b[31mred"), body(GOOD, session_id="\ud800"),
    *[body(GOOD, with_field(field, value)) for field, value, _ in BAD_FIELDS],
]


@pytest.mark.parametrize("content", MALFORMED_ANSWERS, ids=range(len(MALFORMED_ANSWERS)))
def test_malformed_answers_are_a_400_and_store_nothing(server: Server, content: str | bytes) -> None:
    before = answered(server)
    reply = post(server, "/give_answers", content)
    assert reply.status_code == 400, reply.text
    error = reply.json()
    assert error["error"] and "\n" not in error["error"] and isinstance(error["refused"], list)
    assert answered(server) == before


def test_a_refused_answer_names_its_index_and_field(server: Server) -> None:
    reply = post(server, "/give_answers", body(GOOD, with_field("spans", "oops")))
    assert reply.status_code == 400
    assert reply.json()["refused"] == [{"index": 1, "_task_hash": 2, "error": "spans: must be a list of spans"}]
    assert "answer 1 was refused: spans" in reply.json()["error"]


MALFORMED_REQUESTS = [
    ("POST", "/get_session_questions", "not json"), ("POST", "/get_session_questions", "[1]"),
    ("POST", "/get_session_questions", '{"session_id": 5}'), ("POST", "/get_session_questions", '{"session_id": [1]}'),
    ("POST", "/get_session_questions", "[" * DEEP), ("POST", "/get_session_questions", b"\xff"),
    ("POST", "/get_session_questions", json.dumps({"session_id": "s" * 10_000})),
    ("GET", "/give_answers", ""), ("PUT", "/give_answers", "{}"), ("DELETE", "/", ""), ("POST", "/status", "{}"),
    ("POST", "/project", "{}"), ("GET", "/get_session_questions", ""), ("PATCH", "/get_session_questions", "{}"),
    ("GET", "/status?session_id=%ff%fe", ""), ("GET", "/status?session_id=" + "x" * 5000, ""),
    ("GET", "/static/../../etc/passwd", ""), ("GET", "/static/%2e%2e/binanno.db", ""), ("GET", "/nowhere", ""),
]


@pytest.mark.parametrize(("method", "path", "content"), MALFORMED_REQUESTS, ids=range(len(MALFORMED_REQUESTS)))
def test_malformed_requests_are_never_a_server_error(server: Server, method: str, path: str, content: str) -> None:
    reply = httpx.request(method, server.url + path, content=content, timeout=60)
    assert reply.status_code < 500, reply.text


def test_after_the_malformed_set_the_dataset_still_works(server: Server, tmp_path: Path) -> None:
    # Runs after the others in this module: the good answers stored next to all the refusals
    # must still be read by stats, db-out and train.
    tasks = server.questions()
    assert tasks
    server.answer(tasks, "accept")
    home, db = server.db.parent / "home", str(server.db)
    stats = run_cli("stats", "ds", "--json", "--db", db, home=home)
    assert stats.returncode == 0 and json.loads(stats.stdout)["total"] == len(tasks)
    out = run_cli("db-out", "ds", "--db", db, home=home)
    assert out.returncode == 0 and len(out.stdout.splitlines()) == len(tasks)
    trained = run_cli("train", str(tmp_path / "model"), "--ner", "ds", "-n", "1", "--eval-split", "0", "--db", db, home=home)
    assert trained.returncode == 0, trained.stderr
