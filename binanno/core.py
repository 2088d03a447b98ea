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

from .controller import Controller  # noqa: F401 (Prodigy's prodigy.core.Controller)
from .errors import UserError, did_you_mean
from .util import get_labels, split_string

ENTRY_POINT_GROUP = "binanno_recipes"
KINDS = ("positional", "option", "flag")


@dataclass(init=False)
class Arg:
    """How a recipe argument appears on the command line.

    Two spellings: radicli's, as Prodigy writes it now, ``Arg("--label", "-l", help=..., converter=...)``
    (an option; with no flag named, ``Arg(help="Dataset")``, a positional), and binanno's keywords,
    ``Arg(help=..., kind="option", short="l")``. An option on a ``bool`` argument is an on/off flag,
    and an ``int``, ``float`` or ``Path`` annotation converts the value when no converter is given.
    """

    help: str
    kind: str
    short: str | None
    converter: Callable[[str], Any] | None
    choices: tuple[str, ...] | None
    #: the flag as spelt on the command line (``--view-id``); None: from the argument's name
    option: str | None
    #: radicli's ``count``: ``-v -v`` gives 2
    count: bool
    #: a list option (``list[str]``): repeating the flag adds to the list
    many: bool = False

    def __init__(self, option: str | None = None, short: str | None = None, *, help: str = "", kind: str | None = None,
                 converter: Callable[[str], Any] | None = None, choices: tuple[str, ...] | None = None,
                 count: bool = False) -> None:
        if option is not None and not option.startswith("-"):
            help, option = help or option, None  # binanno's old Arg("Help text")
        if kind is not None and kind not in KINDS:
            raise ValueError(f"Arg kind must be one of {', '.join(KINDS)}, not {kind!r}")
        self.option, self.help, self.converter, self.choices, self.count = option, help, converter, choices, count
        self.short = short.lstrip("-") if short else None
        # Undecided until the recipe's signature is known (see bind): positional unless a flag is named.
        self.kind = kind or ("option" if option or self.short else "positional")
        self._kind_given = kind is not None

    @classmethod
    def coerce(cls, spec: Arg | tuple[Any, ...] | str) -> Arg:
        """Accept an ``Arg``, a help string, or Prodigy's ``(help, kind, short, converter)`` tuple."""
        if isinstance(spec, Arg):
            return spec
        if isinstance(spec, str):
            return cls(help=spec)
        help_, kind, short, converter = (tuple(spec) + (None,) * 4)[:4]
        kind = "option" if kind == "options" else kind  # a slip some published recipes make (ner.make-gold)
        return cls(help=help_ or "", kind=kind or "positional", short=short, converter=converter)

    def bind(self, param: inspect.Parameter, hint: Any) -> Arg:
        """This Arg completed from the recipe's parameter: a flag for a ``bool``, a converter from the type."""
        kind = self.kind
        if not self._kind_given and kind == "option" and (hint in (bool, "bool") or isinstance(param.default, bool)):
            kind = "flag"
        item = _list_item(_unwrap(hint))
        many = self.converter is None and item is not None and kind == "option"
        if many:  # radicli's list options: --label A,B, or --label A --label B
            converter: Callable[[str], Any] | None = list_converter(CONVERTERS.get(item, str))
        else:
            converter = self.converter or CONVERTERS.get(_unwrap(hint))
        arg = Arg(self.option, self.short, help=self.help, kind=kind, converter=converter, choices=self.choices,
                  count=self.count)
        arg.many = many
        return arg


# Annotations that convert a CLI value by themselves (radicli does the same).
CONVERTERS: dict[Any, Callable[[str], Any]] = {int: int, float: float, Path: Path, "int": int, "float": float,
                                               "Path": Path}


def _list_item(hint: Any) -> Any:
    """``X`` for a ``list[X]`` / ``List[X]`` hint (``str`` when unparametrized), else None."""
    if isinstance(hint, str):
        for prefix in ("list[", "List["):
            if hint.startswith(prefix):
                return hint[len(prefix):].rstrip("]").strip() or "str"
        return "str" if hint in ("list", "List") else None
    if hint is list or getattr(hint, "__origin__", None) is list:
        args = getattr(hint, "__args__", ())
        return args[0] if args else str
    return None


def list_converter(item: Callable[[str], Any] = str) -> Callable[[str], list[Any]]:
    """A CLI converter for a list option: ``"A, B"`` -> ``["A", "B"]``, each item converted (radicli's rule)."""
    def convert(value: str) -> list[Any]:
        value = value.strip()
        if value.startswith("[") and value.endswith("]"):
            value = value[1:-1]
        return [item(part.strip().strip("'\"")) for part in value.split(",") if part.strip()]

    return convert


def _unwrap(hint: Any) -> Any:
    """``X`` for ``Optional[X]`` / ``X | None``; the hint itself otherwise."""
    args = [a for a in getattr(hint, "__args__", ()) if a is not type(None)]
    if isinstance(hint, str):
        return hint.replace("Optional[", "").replace("| None", "").strip(" ]")
    return args[0] if len(args) == 1 and type(None) in getattr(hint, "__args__", ()) else hint


def _hints(func: Callable[..., Any]) -> dict[str, Any]:
    """The function's type hints, resolved where they can be; else the annotations as written."""
    import typing

    try:
        return typing.get_type_hints(func)
    except Exception:  # a hint naming something the recipe file never imported: keep it as text
        return dict(getattr(func, "__annotations__", {}))


#: Prodigy's shared argument descriptions (``prodigy.core.recipe_args``), for recipes written with them.
recipe_args: dict[str, tuple[Any, ...]] = {
    "dataset": ("Dataset to save annotations to", "positional", None, str),
    "source": ("Data to annotate (file path or '-' to read from standard input)", "positional", None, str),
    "spacy_model": ("Loadable spaCy pipeline, path, or blank:LANG", "positional", None, str),
    "api": ("DEPRECATED: API loader to use", "option", "a", str),
    "loader": ("Loader (guessed from file extension if not set)", "option", "lo", str),
    "label": ("Comma-separated label(s) to annotate or text file with one label per line", "option", "l", get_labels),
    "entity_label": ("Comma-separated entity label(s) to annotate", "option", "l", get_labels),
    "label_set": ("Comma-separated label(s) to annotate", "option", "l", get_labels),
    "patterns": ("Path to match patterns file", "option", "pt", str),
    "exclude": ("Comma-separated list of dataset IDs whose annotations to exclude", "option", "e", split_string),
    "unsegmented": ("Don't split sentences", "flag", "U", bool),
    "output": ("Output path or file", "option", "o", str),
    "batch_size": ("Number of examples to process at once", "option", "b", int),
    "view_id": ("Annotation interface to use", "option", "v", str),
    "diff": ("Show the two versions as a diff (the diff interface) instead of side by side", "flag", "D", bool),
}


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
        signature, hints = inspect.signature(func).parameters, _hints(func)
        described = {p: (Arg.coerce(args[p]) if p in args else Arg()).bind(signature[p], hints.get(p)) for p in params}
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
