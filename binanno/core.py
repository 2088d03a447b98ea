"""The recipe registry: named functions whose arguments describe their own CLI.

Built-in recipes register exactly like a user's: through the ``binanno_recipes`` entry-point
group (the built-ins are declared in setup.cfg), a ``-F file.py``, or a plain import.
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Callable

from .errors import UserError, did_you_mean

ENTRY_POINT_GROUP = "binanno_recipes"
KINDS = ("positional", "option", "flag")


@dataclass
class Arg:
    """How a recipe argument appears on the command line."""

    help: str = ""
    kind: str = "positional"
    short: str | None = None
    converter: Callable[[str], Any] | None = None
    choices: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Arg kind must be one of {', '.join(KINDS)}, not {self.kind!r}")

    @classmethod
    def coerce(cls, spec: Arg | tuple[Any, ...] | str) -> Arg:
        """Accept an ``Arg``, a help string, or Prodigy's ``(help, kind, short, converter)`` tuple."""
        if isinstance(spec, Arg):
            return spec
        if isinstance(spec, str):
            return cls(help=spec)
        help_, kind, short, converter = (tuple(spec) + (None,) * 4)[:4]
        return cls(help=help_ or "", kind=kind or "positional", short=short, converter=converter)


@dataclass
class Recipe:
    name: str
    func: Callable[..., Any]
    args: dict[str, Arg] = field(default_factory=dict)
    #: a command does its work and returns; a recipe returns components and starts the server
    is_command: bool = False

    @property
    def summary(self) -> str:
        doc = inspect.getdoc(self.func) or ""
        return doc.strip().splitlines()[0] if doc.strip() else ""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.func(*args, **kwargs)


_RECIPES: dict[str, Recipe] = {}
_loaded_entry_points = False


def recipe(name: str, /, **args: Arg | tuple[Any, ...] | str) -> Callable[[Callable[..., Any]], Recipe]:
    """Register a function as recipe ``name``; keyword arguments describe its CLI arguments.

    The function returns components (a dict with at least ``stream``) and the server starts.
    """
    return _register(name, args, is_command=False)


def command(name: str, /, **args: Arg | tuple[Any, ...] | str) -> Callable[[Callable[..., Any]], Recipe]:
    """Register a command: like a recipe, but it does its work and returns (no server)."""
    return _register(name, args, is_command=True)


def _register(name: str, args: dict[str, Any], is_command: bool) -> Callable[[Callable[..., Any]], Recipe]:
    def register(func: Callable[..., Any]) -> Recipe:
        # *args and **kwargs can't be spelled on a command line: they get no CLI argument.
        params = [name for name, p in inspect.signature(func).parameters.items()
                  if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        unknown = [a for a in args if a not in params]
        if unknown:
            raise TypeError(f"recipe {name!r} describes arguments it doesn't take: {', '.join(unknown)}")
        described = {p: Arg.coerce(args[p]) if p in args else Arg() for p in params}
        entry = Recipe(name, func, described, is_command)
        _RECIPES[name] = entry
        return entry

    return register


def load_entry_points() -> None:
    """Import every recipe declared in the ``binanno_recipes`` entry-point group (once)."""
    global _loaded_entry_points
    if _loaded_entry_points:
        return
    _loaded_entry_points = True
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in _RECIPES:
            continue
        loaded = ep.load()
        if not isinstance(loaded, Recipe) and callable(loaded) and ep.name not in _RECIPES:
            # A plain function: register it like the decorator would, so its parameters are CLI args.
            _register(ep.name, {}, is_command=False)(loaded)


def load_file(path: str | Path) -> None:
    """Import a Python file so that the recipes it defines register themselves (``-F``)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"Can't find recipe file '{path}': check the path passed to -F")
    module_name = f"binanno_user_recipes_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise UserError(f"Can't import '{path}' as Python: pass a .py file to -F")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    sys.path.insert(0, str(path.parent.resolve()))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.pop(0)


def get_recipe(name: str) -> Recipe:
    """The registered recipe ``name``, or a one-line error naming the closest ones."""
    if name not in _RECIPES:
        load_entry_points()
    if name not in _RECIPES:
        raise UserError(f"Unknown recipe '{name}'. {did_you_mean(name, list(_RECIPES))} See binanno --help.")
    return _RECIPES[name]


def all_recipes() -> dict[str, Recipe]:
    """Every registered recipe by name, the entry points loaded."""
    load_entry_points()
    return dict(sorted(_RECIPES.items()))
