"""bench/prodigy_compat.py on recipe files written in Prodigy's style: rewrite, import, real server, one answer."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from binanno.components.db import Database

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

import prodigy_compat  # noqa: E402
from prodigy_compat_inputs import make_inputs  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def test_rewrite_changes_only_the_import_lines() -> None:
    source = ("import prodigy\nfrom prodigy.components.loaders import JSONL\nimport prodigy_utils\n"
              "from prodigy_utils import x\n    import prodigy  # in a try\n@prodigy.recipe('x')\ndef f(prodigy_db): pass\n")
    assert prodigy_compat.rewrite(source) == (
        "import binanno as prodigy\nfrom binanno.components.loaders import JSONL\nimport prodigy_utils\n"
        "from prodigy_utils import x\n    import binanno as prodigy  # in a try\n@prodigy.recipe('x')\ndef f(prodigy_db): pass\n")


@pytest.fixture
def runner(tmp_path: Path) -> prodigy_compat.Runner:
    work = tmp_path / "work"
    return prodigy_compat.Runner(ROOT, work, make_inputs(work), timeout=180)


def stored(db: str, dataset: str) -> list[dict]:
    database = Database(db)
    try:
        return list(database.get_answers(dataset))
    finally:
        database.close()


@pytest.mark.slow
def test_old_tuple_arguments_serve_and_store_an_answer(runner: prodigy_compat.Runner) -> None:
    table = {"prodigy_recipe_tuple.py": {"recipes": {"compat.tuple": {"argv": ["tuple_ds", "{news}", "--label", "BUSINESS"]}}}}
    result = runner.check_file(HERE / "prodigy_recipe_tuple.py", table)
    assert (result.cls, result.missing) == ("answer stored", []), result
    answers = stored(result.recipes[0].db, "tuple_ds")
    assert [(a["label"], a["answer"]) for a in answers] == [("BUSINESS", "accept")]


@pytest.mark.slow
def test_todays_names_serve_a_choice_and_store_the_picked_option(runner: prodigy_compat.Runner) -> None:
    table = {"prodigy_recipe_arg.py": {"recipes": {"compat.arg": {"argv": ["arg_ds", "{news}"]}}}}
    result = runner.check_file(HERE / "prodigy_recipe_arg.py", table)
    assert result.cls == "answer stored", result
    assert [a["accept"] for a in stored(result.recipes[0].db, "arg_ds")] == [["A"]]


def test_a_missing_name_fails_the_import_and_is_ranked(runner: prodigy_compat.Runner, tmp_path: Path) -> None:
    recipe = tmp_path / "missing.py"
    recipe.write_text("import prodigy\nfrom prodigy.components.loaders import NoSuchLoader\n\n"
                      "@prodigy.recipe('m')\ndef m(dataset):\n    return prodigy.no_such_helper(dataset)\n", encoding="utf8")
    result = runner.check_file(recipe, {})
    assert result.cls == "import fails"
    assert "NoSuchLoader" in result.detail
    assert result.missing == ["prodigy.components.loaders.NoSuchLoader", "prodigy.no_such_helper"]
    table = prodigy_compat.report([result, prodigy_compat.FileResult("other.py", "answer stored", out_of_scope="needs spaczz")])
    # A file out of scope stays out of the first column even where it works
    assert "| import fails | 1 | 1 |" in table and "| answer stored | 0 | 1 |" in table
    assert "| `prodigy.no_such_helper` | 1 |" in table


def test_a_recipe_that_fails_at_start_gives_its_error_line(runner: prodigy_compat.Runner, tmp_path: Path) -> None:
    recipe = tmp_path / "broken.py"
    recipe.write_text("import prodigy\n\n@prodigy.recipe('broken', source=('Source', 'positional', None, str))\n"
                      "def broken(source):\n    raise KeyError('no such column: ' + source)\n", encoding="utf8")
    result = runner.check_file(recipe, {"broken.py": {"recipes": {"broken": {"argv": ["text"]}}}})
    assert (result.cls, result.detail) == ("start fails", "KeyError: 'no such column: text'")


@pytest.mark.slow
def test_a_view_the_page_lacks_is_named(runner: prodigy_compat.Runner, tmp_path: Path) -> None:
    recipe = tmp_path / "boxes.py"
    recipe.write_text("import prodigy\nfrom prodigy import get_stream\n\n"
                      "@prodigy.recipe('boxes', dataset=('Dataset', 'positional', None, str), source=('Source', 'positional', None, str))\n"
                      "def boxes(dataset, source):\n    return {'dataset': dataset, 'stream': get_stream(source), 'view_id': 'image_manual'}\n",
                      encoding="utf8")
    result = runner.check_file(recipe, {"boxes.py": {"recipes": {"boxes": {"argv": ["boxes_ds", "{news}"]}}}})
    assert result.cls == "answer stored"
    assert result.detail.startswith("the page has no image_manual interface; ")


@pytest.mark.slow
def test_a_list_option_and_text_less_records_serve_and_store(runner: prodigy_compat.Runner) -> None:
    table = {"prodigy_recipe_pairs.py": {"recipes": {"compat.pairs": {"argv": ["pairs_ds", "{dup}", "-l", "same,other", "-l", "unsure"]}}}}
    result = runner.check_file(HERE / "prodigy_recipe_pairs.py", table)
    assert (result.cls, result.missing) == ("answer stored", []), result
    (answer,) = stored(result.recipes[0].db, "pairs_ds")
    assert [o["id"] for o in answer["options"]] == ["same", "other", "unsure"]  # -l twice: one list
    assert answer["item1"] == "Acme Robotics Inc." and "<p>ACME Robotics</p>" in answer["html"]
