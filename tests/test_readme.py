"""The README's examples run, and every setting and command is documented there."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

from conftest import ROOT

from binanno.config import SETTINGS
from binanno.core import all_recipes

README = (ROOT / "README.md").read_text(encoding="utf8")


def code_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def test_the_recipe_example_runs(start_server: Any, tmp_path: Path) -> None:
    recipe_code = next(b for b in code_blocks("python") if "@binanno.recipe" in b)
    (tmp_path / "my_recipes.py").write_text(recipe_code)
    command = next(b for b in code_blocks("bash") if "-F my_recipes.py" in b).strip()
    args = shlex.split(command)
    assert args[0] == "binanno"
    args = [str(tmp_path / a) if a == "my_recipes.py" else str(ROOT / a) if a.startswith("binanno/data/") else a for a in args[1:]]
    server = start_server(*args)
    tasks = server.questions()
    # Two paragraphs of the sample mention Northwind Bank and one mentions Globex.
    words = [t["text"][t["spans"][0]["start"]:t["spans"][0]["end"]] for t in tasks]
    assert sorted(words) == ["Globex", "Northwind Bank", "Northwind Bank"]
    server.answer(tasks, "accept")
    assert server.questions() == []
    server.stop()
    assert "3 accept" in server.output


def test_every_setting_is_documented() -> None:
    table = README.split("## Settings", 1)[1].split("\n## ", 1)[0]
    missing = [s.name for s in SETTINGS if f"| `{s.name}` |" not in table]
    assert not missing


def test_every_recipe_and_command_is_documented() -> None:
    missing = [name for name in all_recipes() if f"`{name}" not in README]
    assert not missing


def test_the_quick_start_commands_use_the_bundled_files() -> None:
    for path in re.findall(r"binanno/data/[\w.]+", README):
        assert (ROOT / path).is_file(), path
