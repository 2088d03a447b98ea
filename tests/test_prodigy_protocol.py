"""Prodigy's protocol and settings against the real server: /get_questions, /project's config,
prodigy.json keys, the media route, and a label added after loading asking its own questions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from conftest import ROOT, run_cli, write_jsonl
from media_files import write_png

from binanno.components.db import Database
from binanno.config import resolve
from binanno.hashing import set_hashes

RECIPES = str(ROOT / "tests" / "prodigy_recipes.py")
PAGE = str(ROOT / "tests" / "page_recipe.py")


def test_the_same_file_with_a_second_label_asks_again(start_server: Any, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "texts.jsonl", [{"text": "Acme hires."}, {"text": "Globex fires."}])
    db = tmp_path / "answers.db"
    first = start_server("label.ask", "topics", str(source), "--label", "HIRING", "-F", RECIPES, db=db)
    tasks = first.questions()
    assert [t["label"] for t in tasks] == ["HIRING", "HIRING"]
    inputs = {t["_input_hash"] for t in tasks}
    first.answer(tasks)
    first.stop()
    again = start_server("label.ask", "topics", str(source), "--label", "HIRING", "-F", RECIPES, db=db)
    assert again.questions() == []  # answered: not asked twice
    again.stop()
    second = start_server("label.ask", "topics", str(source), "--label", "FIRING", "-F", RECIPES, db=db)
    tasks = second.questions()
    assert [t["label"] for t in tasks] == ["FIRING", "FIRING"]  # the second label is a question of its own
    assert {t["_input_hash"] for t in tasks} == inputs  # the same inputs, asked again


def test_get_questions_is_get_session_questions(start_server: Any, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "texts.jsonl", [{"text": f"Text {i}"} for i in range(4)])
    server = start_server("mark", "plain", str(source), "--batch-size", "2")
    posted = server.post("/get_questions", {"session_id": "plain-alice"})
    assert posted["session_id"] == "plain-alice" and [t["text"] for t in posted["tasks"]] == ["Text 0", "Text 1"]
    assert {"total", "progress", "status"} <= posted.keys()
    got = httpx.get(server.url + "/get_questions", params={"session_id": "plain-bob"}, timeout=60).json()
    assert got["session_id"] == "plain-bob" and [t["text"] for t in got["tasks"]] == ["Text 2", "Text 3"]


def test_project_passes_the_recipe_config_through(start_server: Any, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "tasks.jsonl", [{"text": "A text"}])
    ui = {"choice_style": "multiple", "html_template": "<b>{{text}}</b>", "hide_meta": True,
          "custom_theme": {"cardMaxWidth": 900, "bgCard": "#fafafa"}, "labels": ["A", "B"], "my_own_key": [1, 2]}
    server = start_server("page.tasks", "cfg", str(source), "--view-id", "text", "--config", json.dumps(ui), "-F", PAGE)
    project = httpx.get(server.url + "/project", timeout=30).json()
    assert {k: project["config"][k] for k in ui} == ui
    assert not {"db", "host", "port", "session_tokens", "max_request_size"} & project["config"].keys()
    page = httpx.get(server.url + "/", timeout=30).text
    assert '"cardMaxWidth": 900' in page and str(tmp_path) not in page  # the db path never reaches the page


def test_prodigy_json_keys_mean_the_same(tmp_path: Path, capsys: Any) -> None:
    (tmp_path / "prodigy.json").write_text(json.dumps({
        "port": 9123, "batch_size": 3, "feed_overlap": True, "hide_meta": True, "custom_theme": {"bgCard": "#fff"},
        "db": "sqlite", "db_settings": {"sqlite": {"name": "mine.db", "path": str(tmp_path)}},
        "cors": True, "colour_scheme": "dark",
    }), encoding="utf8")
    (tmp_path / "binanno.json").write_text(json.dumps({"batch_size": 4}), encoding="utf8")
    settings = resolve(environ={"BINANNO_HOME": str(tmp_path / "home")}, cwd=tmp_path)
    assert settings["port"] == 9123 and settings["feed_overlap"] is True and settings["hide_meta"] is True
    assert settings["batch_size"] == 4  # binanno.json wins over the prodigy.json beside it
    assert settings["db"] == str(tmp_path / "mine.db") and "db_settings" not in settings and "cors" not in settings
    assert settings["custom_theme"] == {"bgCard": "#fff"} and settings["colour_scheme"] == "dark"
    warnings = capsys.readouterr().err.strip().splitlines()
    assert len(warnings) == 2
    assert "Prodigy's setting 'cors' does nothing in binanno" in warnings[0]
    assert "unknown setting 'colour_scheme'" in warnings[1]


def test_prodigy_postgresql_settings_become_a_url(tmp_path: Path) -> None:
    (tmp_path / "binanno.json").write_text(json.dumps({"db": "postgresql", "db_settings": {"postgresql": {
        "dbname": "annotations", "user": "ann", "password": "p@ss", "host": "db.local", "port": 5433}}}), encoding="utf8")
    settings = resolve(environ={"BINANNO_HOME": str(tmp_path / "home")}, cwd=tmp_path)
    assert settings["db"] == "postgresql://ann:p%40ss@db.local:5433/annotations"


def test_a_dataset_source_through_the_cli(start_server: Any, tmp_path: Path, home: Path) -> None:
    source = write_jsonl(tmp_path / "texts.jsonl", [{"text": "Acme hires."}, {"text": "Globex fires."}, {"text": "Initech."}])
    db = tmp_path / "answers.db"
    first = start_server("mark", "first", str(source), db=db)
    tasks = first.questions()
    first.answer(tasks[:2], "accept")
    first.answer(tasks[2:], "reject")
    first.stop()
    again = start_server("mark", "second", "dataset:first:accept", db=db)
    assert [t["text"] for t in again.questions()] == ["Acme hires.", "Globex fires."]
    again.stop()
    proc = run_cli("mark", "third", "dataset:nope", "--db", str(db), home=home)
    assert proc.returncode == 1 and "Unknown dataset 'nope'" in proc.stderr and "Traceback" not in proc.stderr


def test_image_server_files_through_the_server(start_server: Any, tmp_path: Path) -> None:
    folder = tmp_path / "pics"
    folder.mkdir()
    write_png(folder / "cat.png")
    (tmp_path / "secret.png").write_bytes((folder / "cat.png").read_bytes())
    server = start_server("image.ask", "pics", str(folder), "-F", RECIPES)
    (task,) = server.questions()
    response = httpx.get(server.url + task["image"], timeout=30)
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    assert response.content == (folder / "cat.png").read_bytes()
    token = task["image"].split("/")[2]
    for path in (f"/media/{token}/..%2Fsecret.png", f"/media/{token}/%2E%2E/secret.png", f"/media/{token}/{tmp_path}/secret.png",
                 "/media/000000000000/cat.png", f"/media/{token}/"):
        assert httpx.get(server.url + path, timeout=30).status_code == 404, path
    server.answer([task], "accept")


def test_an_unknown_key_is_one_warning_naming_it(start_server: Any, tmp_path: Path, home: Path) -> None:
    (home / "binanno.json").write_text(json.dumps({"colour": "red", "hide_meta": True}), encoding="utf8")
    source = write_jsonl(tmp_path / "texts.jsonl", [{"text": "One"}])
    server = start_server("mark", "warned", str(source))
    assert httpx.get(server.url + "/project", timeout=30).json()["config"]["hide_meta"] is True
    output = server.stop()
    assert output.count("unknown setting 'colour'") == 1 and "hide_meta" not in output


def test_the_docs_custom_recipe_runs_and_its_options_are_part_of_the_question(start_server: Any, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "cats.jsonl", [{"text": "Tom purrs."}, {"text": "Rex barks."}])
    server = start_server("cats-recipe", "animals", str(source), "-F", RECIPES)
    tasks = server.questions()
    assert [t["text"] for t in tasks] == ["Tom purrs.", "Rex barks."]
    assert [o["id"] for o in tasks[0]["options"]] == ["FELINE", "CANINE", "BOVINE"]
    bare = set_hashes({"text": "Tom purrs."})
    assert tasks[0]["_input_hash"] == bare["_input_hash"] and tasks[0]["_task_hash"] != bare["_task_hash"]
    server.answer([{**tasks[0], "accept": ["FELINE"]}, {**tasks[1], "accept": ["CANINE"]}])
    server.stop()
    db = Database(server.db)
    assert [a["accept"] for a in db.get_answers("animals")] == [["FELINE"], ["CANINE"]]
    db.close()
