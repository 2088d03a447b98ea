"""The REST protocol through Starlette's TestClient, on a real controller and SQLite file."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any, Iterator

import pytest
from starlette.testclient import TestClient

from binanno.components.db import Database
from binanno.config import resolve
from binanno.controller import Controller
from binanno.server import create_app


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    db = Database(tmp_path / "server.db")
    stream = [{"text": f"<b>text</b> {i}", "spans": [{"start": 0, "end": 3, "label": "ORG"}]} for i in range(15)]
    ctrl = Controller({"dataset": "ds", "stream": stream, "view_id": "ner"}, db, resolve(environ={}, cwd=tmp_path))
    ctrl.start()
    with TestClient(create_app(ctrl, environ={})) as test_client:
        yield test_client
    db.close()


def test_page_and_project(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "/static/app.js" in page.text
    assert client.get("/static/app.js").status_code == 200
    project = client.get("/project").json()
    assert project["dataset"] == "ds" and project["view_id"] == "ner"
    assert project["config"]["batch_size"] == 10 and "db" not in project["config"]


def test_questions_then_answers(client: TestClient) -> None:
    body = client.post("/get_session_questions", json={"session_id": "ds-alice"}).json()
    tasks = body["tasks"]
    assert len(tasks) == 10 and body["session_id"] == "ds-alice"
    assert all(len(t["spans"]) == 1 and "_task_hash" in t and t["_session_id"] == "ds-alice" for t in tasks)
    answers = [{**t, "answer": "accept"} for t in tasks[:4]]
    reply = client.post("/give_answers", json={"answers": answers, "session_id": "ds-alice"}).json()
    assert reply["stored"] == 4
    assert reply["status"]["session_answered"] == 4 and reply["status"]["accept"] == 4


def test_default_session_and_beacon_bodies(client: TestClient) -> None:
    body = client.post("/get_session_questions", json={"session_id": None}).json()
    assert body["session_id"] == "ds-default"
    # navigator.sendBeacon posts text/plain: the body is still JSON.
    raw = '{"answers": [{"text": "x", "answer": "ignore"}], "session_id": null}'
    reply = client.post("/give_answers", content=raw, headers={"content-type": "text/plain"})
    assert reply.status_code == 200 and reply.json()["status"]["ignore"] == 1


@pytest.mark.parametrize("body", ["not json", "[1, 2]", '{"answers": "nope"}', '{"answers": [{"text": "x"}]}',
                                  '{"answers": [{"text": "x", "answer": "maybe"}]}'])
def test_bad_answer_bodies_are_400_with_a_message(client: TestClient, body: str) -> None:
    reply = client.post("/give_answers", content=body)
    assert reply.status_code == 400 and reply.json()["error"]
    assert client.get("/status").json()["status"]["answered"] == 0


def test_basic_auth(tmp_path: Path) -> None:
    db = Database(tmp_path / "auth.db")
    ctrl = Controller({"dataset": "ds", "stream": [{"text": "a"}]}, db, resolve(environ={}, cwd=tmp_path))
    ctrl.start()
    app = create_app(ctrl, environ={"BINANNO_BASIC_AUTH_USER": "ann", "BINANNO_BASIC_AUTH_PASS": "s3cret"})
    with TestClient(app) as c:
        assert c.get("/").status_code == 401
        assert c.get("/project", auth=("ann", "wrong")).status_code == 401
        good = "Basic " + base64.b64encode(b"ann:s3cret").decode()
        assert c.get("/project", headers={"Authorization": good}).status_code == 200
    db.close()



def test_the_recipes_config_reaches_the_page_and_server_settings_do_not(tmp_path: Path) -> None:
    db = Database(tmp_path / "cfg.db")
    config = {"labels": ["A"], "choice_style": "multiple", "instructions": "Be quick."}
    settings = resolve(config, cli={"port": 9123}, environ={}, cwd=tmp_path)
    ctrl = Controller({"dataset": "ds", "stream": [{"text": "a"}], "view_id": "choice", "config": config, "total": lambda: 7},
                      db, settings)
    ctrl.start()
    with TestClient(create_app(ctrl, environ={})) as c:
        seen = c.get("/project").json()["config"]
        assert {k: seen[k] for k in config} == config and seen["batch_size"] == 10
        assert not {"db", "host", "port", "lookahead", "beam_width"} & set(seen)
        assert '"choice_style": "multiple"' in c.get("/").text and "9123" not in c.get("/").text
        assert c.post("/get_session_questions", json={}).json()["total"] == 7
        icon = c.get("/favicon.ico")
        assert icon.status_code == 200 and icon.headers["content-type"] == "image/x-icon"
    db.close()


def test_a_refused_answer_is_a_400_naming_each_refused_one_and_nothing_is_stored(tmp_path: Path) -> None:
    def validate(task: dict[str, Any]) -> None:
        if task["text"].endswith(("1", "3")):
            raise ValueError(f"no to {task['text']}")

    db = Database(tmp_path / "refuse.db")
    stream = [{"text": f"text {i}"} for i in range(5)]
    ctrl = Controller({"dataset": "ds", "stream": stream, "validate_answer": validate}, db, resolve(environ={}, cwd=tmp_path))
    ctrl.start()
    with TestClient(create_app(ctrl, environ={})) as c:
        tasks = c.post("/get_session_questions", json={}).json()["tasks"]
        reply = c.post("/give_answers", json={"answers": [{**t, "answer": "accept"} for t in tasks]})
        assert reply.status_code == 400
        body = reply.json()
        assert body["refused"] == [{"index": 1, "_task_hash": tasks[1]["_task_hash"], "error": "no to text 1"},
                                   {"index": 3, "_task_hash": tasks[3]["_task_hash"], "error": "no to text 3"}]
        assert body["error"] == "answer 1 was refused: no to text 1 (and 1 more)"
        assert c.get("/status").json()["status"]["answered"] == 0
        others = [{**t, "answer": "accept"} for i, t in enumerate(tasks) if i not in (1, 3)]
        assert c.post("/give_answers", json={"answers": others}).json()["stored"] == 3
    db.close()
