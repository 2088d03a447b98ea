"""The `binanno` command: one sub-command per registered recipe, generated from its Args."""

from __future__ import annotations

import argparse
import errno
import inspect
import os
import socket
import sys
from typing import Any, NoReturn, Sequence

from . import __version__
from .config import SETTINGS, home, resolve
from .core import Recipe, all_recipes, get_recipe, load_file
from .errors import UserError
from .terminal import printable

# Settings that every server recipe takes as flags; `db` applies to commands too.
SERVER_FLAGS = ("host", "port", "batch_size", "feed_overlap", "annotations_per_task", "history_size", "lookahead")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UserError(f"{self.prog}: {message} (see {self.prog} --help)")


def overview() -> str:
    """`binanno --help`: every recipe and command with its one-line summary."""
    recipes = all_recipes()
    width = max((len(n) for n in recipes), default=10) + 2
    lines = [f"binanno {__version__}: binary annotation with a model in the loop", "",
             "Usage: binanno NAME [ARGS] [-F recipes.py]    (binanno NAME --help for its arguments)", ""]
    for title, is_command in (("Recipes (start the web server)", False), ("Commands", True)):
        lines.append(f"{title}:")
        lines += [f"  {n:<{width}}{r.summary}" for n, r in recipes.items() if r.is_command == is_command]
        lines.append("")
    lines.append("Settings come from flags, ./binanno.json, $BINANNO_HOME/binanno.json and BINANNO_* variables.")
    return "\n".join(lines)


class _Extend(argparse.Action):
    """argparse's "extend", except that the first use replaces the default instead of adding to it."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        items = getattr(namespace, self.dest)
        setattr(namespace, self.dest, ([] if items is self.default else list(items)) + list(values))


def build_parser(entry: Recipe) -> argparse.ArgumentParser:
    """An argument parser for one recipe, from its declared Args and its signature's defaults."""
    doc = inspect.getdoc(entry.func) or ""
    parser = _Parser(prog=f"binanno {entry.name}", description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    params = inspect.signature(entry.func).parameters
    for name, arg in entry.args.items():
        default = params[name].default
        has_default = default is not inspect.Parameter.empty
        kwargs: dict[str, Any] = {"help": arg.help + (f" (default: {default})" if has_default and default not in (None, False) else "")}
        if arg.choices:
            kwargs["choices"] = arg.choices
        if arg.kind == "positional":
            parser.add_argument(name, nargs="?" if has_default else None, default=default if has_default else None,
                                type=arg.converter or str, **kwargs)
            continue
        # A trailing underscore only dodges a Python name (json_, type_): the flag is --json.
        flags = [arg.option or f"--{name.rstrip('_').replace('_', '-')}"] + ([f"-{arg.short}"] if arg.short else [])
        if arg.count:
            parser.add_argument(*flags, dest=name, action="count", default=default if has_default else 0, **kwargs)
        elif arg.kind == "flag":
            parser.add_argument(*flags, dest=name, action="store_true", default=bool(default) if has_default else False, **kwargs)
        elif arg.many:  # each use of the flag adds its items
            parser.add_argument(*flags, dest=name, action=_Extend, type=arg.converter or str,
                                default=default if has_default else None, **kwargs)
        else:
            parser.add_argument(*flags, dest=name, type=arg.converter or str, default=default if has_default else None, **kwargs)
        if name.endswith("_"):  # the old spelling (--json-) still works, unlisted
            alias = {"action": "store_true"} if arg.kind == "flag" else {"type": arg.converter or str}
            parser.add_argument(f"--{name.replace('_', '-')}", dest=name, help=argparse.SUPPRESS, **alias)
    taken = set(entry.args)
    group = parser.add_argument_group("settings")
    for setting in SETTINGS:
        if setting.name in taken or (entry.is_command and setting.name != "db"):
            continue
        if setting.name != "db" and setting.name not in SERVER_FLAGS:
            continue
        flag = f"--{setting.name.replace('_', '-')}"
        if setting.default is False:
            group.add_argument(flag, dest=setting.name, action="store_const", const=True, default=None, help=setting.help)
        else:
            group.add_argument(flag, dest=setting.name, type=setting.type, default=None, help=setting.help)
    group.add_argument("-F", dest="_files", action="append", default=[], metavar="FILE", help="Python file(s) with recipes to load")
    return parser


def _pop_files(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    files, rest, items = [], [], list(argv)
    while items:
        item = items.pop(0)
        if item == "-F" and items:
            files.append(items.pop(0))
        elif item.startswith("-F") and len(item) > 2:
            files.append(item[2:])
        else:
            rest.append(item)
    return files, rest


def check_port(host: str, port: int) -> None:
    """Fail early, with a one-line error, if the port is taken."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as e:
            # A taken port and a host this machine doesn't have need different fixes.
            if isinstance(e, socket.gaierror) or e.errno == errno.EADDRNOTAVAIL:
                raise UserError(f"Can't listen on {host}:{port} ({e.strerror}): pass another --host (127.0.0.1 for this "
                                "machine only, 0.0.0.0 for every interface) or set BINANNO_HOST") from None
            raise UserError(f"Can't listen on {host}:{port} ({e.strerror}): pass another --port or set BINANNO_PORT") from None


def run(argv: Sequence[str], overrides: dict[str, Any] | None = None) -> int:
    """Run one command line (without the leading ``binanno``); ``overrides`` are settings that win over every source."""
    files, rest = _pop_files(argv)
    for path in files:
        load_file(path)
    if not rest or rest[0] in ("-h", "--help", "help"):
        print(overview())
        return 0
    if rest[0] == "--version":
        print(__version__)
        return 0
    entry = get_recipe(rest[0])
    # Intermixed: an optional positional may come after options (db-out ds --answer accept out.jsonl).
    namespace = build_parser(entry).parse_intermixed_args(rest[1:])
    kwargs = {name: getattr(namespace, name) for name in entry.args}
    cli_settings = {s.name: getattr(namespace, s.name, None) for s in SETTINGS if s.name not in entry.args}
    cli_settings.update(overrides or {})
    # Resolved for commands too: a "db" in binanno.json applies to db-out, and a broken
    # binanno.json is reported whatever the command.
    early = resolve(cli=cli_settings)
    db = early.get("db")
    if db:
        os.environ["BINANNO_DB"] = str(db)  # so that binanno.connect() in any recipe sees it
    if entry.is_command:
        entry(**kwargs)
        return 0
    # The recipe first: a missing model or file is the error to fix before a taken port.
    components = entry(**kwargs)
    if components is None:
        return 0
    if not isinstance(components, dict):
        raise UserError(f"Recipe '{entry.name}' returned {type(components).__name__}: a recipe returns a dict of components")
    from .server import serve

    settings = resolve(components.get("config"), cli=cli_settings)
    check_port(settings["host"], settings["port"])
    serve(components, settings)
    return 0


def serve(command: str, **config: Any) -> None:
    """Prodigy's ``serve``: run a recipe from Python, ``serve("ner.manual ds blank:en data.jsonl --label X", port=9000)``.

    ``config`` holds settings that win over binanno.json and the environment. The recipe must be
    registered already: imported, or defined in the calling file.
    """
    import shlex

    run(shlex.split(command), overrides=config)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `binanno` command."""
    try:
        return run(sys.argv[1:] if argv is None else argv)
    except UserError as e:
        print(f"✘ {printable(e)}", file=sys.stderr)  # one line, whatever a file or name held
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `binanno db-out ds | head`: the reader has gone; exit quietly, like other Unix tools.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


def default_db() -> str:
    return str(home() / "binanno.db")
