"""Recipes written as Prodigy's docs write them (tests/recipes/prodigy_style.py) run on the real CLI and server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import spacy
from conftest import ROOT, run_cli, write_jsonl

from binanno.components.db import connect

RECIPES = str(ROOT / "tests" / "recipes" / "prodigy_style.py")


def test_radicli_args_and_prodigy_tuples_parse_through_the_cli(home: Path) -> None:
    result = run_cli("show-args", "news", "-l", "PERSON,ORG", "--view-id", "choice", "-b", "5", "--verbose",
                     "-e", "old,older", "-U", "-n", "7", "-F", RECIPES, home=home)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"dataset": "news", "label": ["PERSON", "ORG"], "view_id": "choice",
                                         "batch_size": 5, "verbose": True, "exclude": ["old", "older"],
                                         "unsegmented": True, "limit": 7}
    defaults = run_cli("show-args", "news", "-F", RECIPES, home=home)
    assert json.loads(defaults.stdout) == {"dataset": "news", "label": None, "view_id": "text", "batch_size": 10,
                                           "verbose": False, "exclude": None, "unsegmented": False, "limit": 3}
    help_text = run_cli("show-args", "--help", "-F", RECIPES, home=home).stdout
    assert "--view-id" in help_text and "--batch-size" in help_text and "-V" in help_text
    bad = run_cli("show-args", "news", "-b", "many", "-F", RECIPES, home=home)
    assert bad.returncode == 1 and "invalid int value" in bad.stderr and "Traceback" not in bad.stderr


def test_a_docs_style_manual_recipe_serves_and_stores(start_server: Any, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "news.jsonl", [{"text": "Acme Corp hired Jane Doe."}, {"text": "Globex fell."}])
    server = start_server("ner.manual-custom", "people", str(source), "--label", "PERSON,ORG", "-F", RECIPES)
    project = httpx.get(server.url + "/project").json()
    assert project["view_id"] == "ner_manual" and project["config"]["labels"] == ["PERSON", "ORG"]
    tasks = server.questions()
    assert [t["text"] for t in tasks] == ["Acme Corp hired Jane Doe.", "Globex fell."]
    assert [tok["text"] for tok in tasks[0]["tokens"]][:3] == ["Acme", "Corp", "hired"]
    tasks[0]["spans"] = [{"start": 0, "end": 9, "token_start": 0, "token_end": 1, "label": "ORG"}]
    server.answer(tasks, "accept")
    output = server.stop()
    assert "Received 2 annotations!" in output
    stored = connect(str(server.db)).get_dataset_examples("people")
    assert len(stored) == 2 and stored[0]["spans"] == tasks[0]["spans"]


def test_a_prodigy_style_teach_recipe_with_patterns(start_server: Any, tmp_path: Path) -> None:
    model = tmp_path / "blank_en"
    spacy.blank("en").to_disk(model)
    texts = [{"text": f"Win a free prize number {i} now"} for i in range(6)] + [{"text": f"Lunch at {i}?"} for i in range(6)]
    source = write_jsonl(tmp_path / "sms.jsonl", texts)
    patterns = write_jsonl(tmp_path / "patterns.jsonl", [{"label": "SPAM", "pattern": [{"LOWER": "free"}]}])
    server = start_server("textcat.teach-custom", "sms", str(model), str(source), "-l", "SPAM", "-p", str(patterns),
                          "-F", RECIPES)
    asked: list[dict[str, Any]] = []
    for _ in range(10):  # a batch at a time, each answered, until the stream ends
        tasks = server.questions()
        if not tasks:
            break
        server.answer(tasks, "accept")
        asked += tasks
    assert asked and {t["label"] for t in asked} == {"SPAM"}
    from_patterns = [t for t in asked if t.get("meta", {}).get("pattern") is not None]
    assert len(from_patterns) == 6 and all("free" in t["text"] for t in from_patterns)
    assert all("label" not in s for t in from_patterns for s in t["spans"])  # label_span=False
    server.stop()
    stored = connect(str(server.db)).get_dataset_examples("sms")
    assert len(stored) == len(asked) and {s["answer"] for s in stored} == {"accept"}


def test_serve_runs_a_command_line_from_python(home: Path, tmp_path: Path) -> None:
    script = tmp_path / "run.py"
    script.write_text("import binanno as prodigy\n"
                      f"prodigy.serve('show-args news --label A,B -F {RECIPES}', port=8123)\n", encoding="utf8")
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                            env={**os.environ, "BINANNO_HOME": str(home)}, timeout=300)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["label"] == ["A", "B"]
