"""The recipe registry: decorators, Prodigy-style arg tuples, -F files and entry points."""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Iterator

import pytest
from helpers_core import binanno

from binanno import Arg, UserError, command, recipe, registry, split_string
from binanno.cli import build_parser

BUILT_INS = ("db-in", "db-out", "drop", "mark", "stats")

USER_RECIPES = '''
from binanno import Arg, command, recipe, split_string


@command("hello.world", name=Arg(help="Who to greet"), shout=("Shout it", "flag", "s", None),
         times=("How often", "option", "n", int))
def hello(name: str, shout: bool = False, times: int = 1) -> None:
    """Print a greeting (a user's command recipe)."""
    greeting = f"Hello, {name}!"
    print("\\n".join([greeting.upper() if shout else greeting] * times))


@recipe("user.teach", dataset=("Dataset to save to", "positional", None, str),
        label=("Labels", "option", "l", split_string))
def teach(dataset: str, label: list[str] | None = None) -> dict:
    """Ask about labels (a user's server recipe)."""
    return {"dataset": dataset, "stream": iter([])}
'''


@pytest.fixture(autouse=True)
def clean_registry() -> Iterator[None]:
    """Recipes registered by a test are gone after it."""
    registry.load_entry_points()
    before = dict(registry._RECIPES)
    yield
    registry._RECIPES.clear()
    registry._RECIPES.update(before)


def test_recipe_with_args() -> None:
    @recipe("test.args", dataset=Arg(help="Dataset"), label=Arg(help="Labels", kind="option", short="l", converter=split_string),
            dry=Arg(help="Don't save", kind="flag", short="D"), view=Arg(help="View", kind="option", choices=("ner", "text")))
    def func(dataset: str, label: list[str] | None = None, dry: bool = False, view: str = "ner") -> dict[str, Any]:
        """Teach something.

        The longer story.
        """
        return {"dataset": dataset, "label": label, "dry": dry, "view": view}

    entry = registry.get_recipe("test.args")
    assert entry is func and not entry.is_command
    assert entry.summary == "Teach something."
    assert entry.args["label"].kind == "option" and entry.args["label"].short == "l"
    parser = build_parser(entry)
    ns = parser.parse_args(["ds", "-l", "A, B,C", "-D", "--view", "text"])
    assert (ns.dataset, ns.label, ns.dry, ns.view) == ("ds", ["A", "B", "C"], True, "text")
    ns = parser.parse_args(["ds"])
    assert (ns.label, ns.dry, ns.view) == (None, False, "ner")
    assert entry(dataset="x")["dataset"] == "x"  # still callable as the plain function
    with pytest.raises(UserError, match="invalid choice"):
        parser.parse_args(["ds", "--view", "html"])


def test_prodigy_tuples() -> None:
    @command("test.tuples", source=("Input file", "positional", None, str), label=("Labels", "option", "l", split_string),
             n=("How many", "option", "n", int), verbose=("Say more", "flag", "v", bool), note="Just a help string")
    def func(source: str, label: list[str] | None = None, n: int = 3, verbose: bool = False, note: str = "") -> None:
        """Tuples, as Prodigy recipes declare them."""

    assert func.is_command
    assert func.args["source"] == Arg(help="Input file", kind="positional", converter=str)
    assert func.args["label"] == Arg(help="Labels", kind="option", short="l", converter=split_string)
    assert func.args["verbose"].kind == "flag" and func.args["note"] == Arg(help="Just a help string")
    ns = build_parser(func).parse_intermixed_args(["in.jsonl", "-l", "A,B", "-n", "5", "-v", "hello"])
    assert (ns.source, ns.label, ns.n, ns.verbose, ns.note) == ("in.jsonl", ["A", "B"], 5, True, "hello")
    with pytest.raises(UserError, match="invalid int value"):
        build_parser(func).parse_args(["in.jsonl", "-n", "many"])


def test_short_prodigy_tuple_fills_defaults() -> None:
    assert Arg.coerce(("Just help",)) == Arg(help="Just help")
    assert Arg.coerce(("Labels", "option")) == Arg(help="Labels", kind="option")


def test_undescribed_args_are_positional() -> None:
    @recipe("test.undescribed", dataset=Arg(help="Dataset"))
    def func(dataset: str, source: str, extra: str = "x") -> None:
        """Two args nobody described."""

    assert func.args["source"] == Arg() and func.args["extra"] == Arg()
    ns = build_parser(func).parse_args(["ds", "in.jsonl"])
    assert (ns.dataset, ns.source, ns.extra) == ("ds", "in.jsonl", "x")


def test_describing_an_arg_the_function_does_not_take_fails() -> None:
    with pytest.raises(TypeError, match="doesn't take: labels"):
        @recipe("test.unknown", labels=Arg(help="Typo of label"))
        def func(label: str) -> None:
            """Unknown arg."""


def test_star_args_get_no_cli_argument() -> None:
    @command("test.star", dataset=Arg(help="Dataset"))
    def func(dataset: str, *args: Any, **kwargs: Any) -> None:
        """Takes extra keyword arguments from code, not the CLI."""

    assert list(func.args) == ["dataset"]
    assert build_parser(func).parse_args(["ds"]).dataset == "ds"


def test_radicli_list_options_split_commas_and_add_up() -> None:
    from typing import List, Optional

    @recipe("test.lists", dataset=Arg(help="Dataset"), label=Arg("--label", "-l", help="Labels"),
            sizes=Arg("--sizes", help="Sizes"))
    def func(dataset: str, label: Optional[List[str]] = None, sizes: list[int] = [1]) -> None:  # noqa: B006, UP006, UP045
        """radicli's list options."""

    parser = build_parser(func)
    assert parser.parse_args(["ds"]).label is None and parser.parse_args(["ds"]).sizes == [1]
    ns = parser.parse_args(["ds", "-l", "A, B", "--label", "C", "--sizes", "[2, 3]"])
    assert (ns.label, ns.sizes) == (["A", "B", "C"], [2, 3])  # the default is replaced, not added to
    with pytest.raises(UserError, match="invalid"):
        parser.parse_args(["ds", "--sizes", "two"])


def test_the_plural_options_kind_some_recipes_write_is_an_option() -> None:
    assert Arg.coerce(("Labels", "options", "l", split_string)).kind == "option"


def test_setup_gpu_says_what_to_install() -> None:
    from binanno.recipes.train import setup_gpu

    setup_gpu(-1)  # the CPU
    with pytest.raises(UserError, match="GPU 0"):
        setup_gpu(0)  # this machine has no CUDA: one line, not thinc's traceback


def test_bad_kind() -> None:
    with pytest.raises(ValueError, match="Arg kind must be one of"):
        Arg(help="x", kind="switch")


def test_unknown_recipe_lists_the_closest_names() -> None:
    with pytest.raises(UserError) as e:
        registry.get_recipe("db-ot")
    assert "Unknown recipe 'db-ot'" in str(e.value) and "Did you mean: db-out" in str(e.value)
    with pytest.raises(UserError, match="Available: .*db-in.*mark"):
        registry.get_recipe("zzzzzz")


def test_entry_points_declare_the_built_ins() -> None:
    declared = {ep.name: ep for ep in entry_points(group=registry.ENTRY_POINT_GROUP)}
    assert set(BUILT_INS) <= set(declared)
    recipes = registry.all_recipes()
    for name in BUILT_INS:
        # The built-ins are loaded through the entry point, like a third-party package's.
        loaded = declared[name].load()
        assert loaded is recipes[name] and loaded.name == name
        assert loaded.func.__module__.startswith("binanno.recipes.")
        assert loaded.summary
    assert recipes["mark"].is_command is False and recipes["db-out"].is_command is True


def test_entry_point_plain_function_is_wrapped(monkeypatch: pytest.MonkeyPatch) -> None:
    class FakeEntryPoint:
        name = "third.party"

        def load(self) -> Any:
            def third_party(dataset: str) -> None:
                """A plain function from another package."""
            return third_party

    monkeypatch.setattr(registry, "_loaded_entry_points", False)
    monkeypatch.setattr(registry, "entry_points", lambda group: [FakeEntryPoint()])
    entry = registry.get_recipe("third.party")
    assert entry.summary == "A plain function from another package." and list(entry.args) == ["dataset"]


def test_load_file(tmp_path: Path) -> None:
    path = tmp_path / "my_recipes.py"
    path.write_text(USER_RECIPES, encoding="utf8")
    registry.load_file(path)
    recipes = registry.all_recipes()
    assert recipes["hello.world"].is_command and not recipes["user.teach"].is_command
    assert recipes["hello.world"].args["times"].converter is int
    with pytest.raises(UserError, match="Can't find recipe file"):
        registry.load_file(tmp_path / "missing.py")


def test_help_lists_every_recipe_on_one_line(tmp_path: Path) -> None:
    path = tmp_path / "my_recipes.py"
    path.write_text(USER_RECIPES, encoding="utf8")
    proc = binanno("-F", str(path), "--help", home=tmp_path)
    assert proc.returncode == 0 and not proc.stderr
    lines = proc.stdout.splitlines()
    for name, summary in [*((n, registry.all_recipes()[n].summary) for n in BUILT_INS),
                          ("hello.world", "Print a greeting (a user's command recipe)."),
                          ("user.teach", "Ask about labels (a user's server recipe).")]:
        matches = [line for line in lines if line.split()[:1] == [name]]
        assert len(matches) == 1, (name, proc.stdout)
        assert matches[0].endswith(summary)
    server, commands = proc.stdout.index("Recipes (start"), proc.stdout.index("Commands:")
    assert server < proc.stdout.index("  mark ") < commands < proc.stdout.index("  db-out ")
    assert server < proc.stdout.index("  user.teach ") < commands < proc.stdout.index("  hello.world ")


def test_recipe_help_shows_its_arguments(tmp_path: Path) -> None:
    proc = binanno("mark", "--help", home=tmp_path)
    assert proc.returncode == 0
    for needle in ("usage: binanno mark", "dataset", "source", "--label", "-l", "--loader", "--exclude",
                   "--skip-invalid", "--port", "--db", "Review pre-annotated examples",
                   "Every span of an input becomes its own question"):
        assert needle in proc.stdout, needle


def test_user_recipe_file_runs(tmp_path: Path) -> None:
    path = tmp_path / "my_recipes.py"
    path.write_text(USER_RECIPES, encoding="utf8")
    proc = binanno("hello.world", "Ada", "-s", "-n", "2", "-F", str(path), home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "HELLO, ADA!\nHELLO, ADA!\n"
    proc = binanno("-F", str(path), "hello.world", "--help", home=tmp_path)
    assert "Who to greet" in proc.stdout and "--shout" in proc.stdout and "--times" in proc.stdout
