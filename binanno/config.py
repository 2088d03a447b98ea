"""The settings table: each setting is declared once, with its default and help.

Where a value comes from, lowest to highest priority:

1. the default in ``SETTINGS``;
2. the recipe's ``config`` component;
3. ``$BINANNO_HOME/binanno.json`` (``~/.binanno`` by default), then ``./binanno.json``, each after a
   ``prodigy.json`` in the same folder (Prodigy's names: binanno.prodigy_settings);
4. ``BINANNO_<NAME>`` environment variables (e.g. ``BINANNO_PORT=9000``);
5. command-line flags (``--port 9000``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from .errors import UserError
from .prodigy_settings import translate


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    type: Callable[[str], Any]
    help: str


def to_bool(value: str | bool) -> bool:
    """Parse '1/true/yes/on' and '0/false/no/off' (any case)."""
    if isinstance(value, bool):
        return value
    lowered = str(value).strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected true or false, got {value!r}")


SETTINGS: tuple[Setting, ...] = (
    Setting("host", "127.0.0.1", str, "Host the web server listens on"),
    Setting("port", 8080, int, "Port the web server listens on"),
    Setting("db", None, str, "SQLite file or peewee database URL (default: $BINANNO_HOME/binanno.db)"),
    Setting("batch_size", 10, int, "Questions sent per request, and answers per model update"),
    Setting("feed_overlap", False, to_bool, "Whether every named session sees every question"),
    Setting("annotations_per_task", None, float, "Distinct named sessions each question goes to (1.5: every question "
            "to one, half of them to a second); unset: 1, or every session with feed_overlap"),
    Setting("allowed_sessions", "", str, "The only ?session= names that get questions (comma-separated); empty: any"),
    Setting("session_tokens", "", str, "JSON file mapping each session name to its own token (basic-auth password or "
            "bearer token); the session is then taken from the token"),
    Setting("history_size", 10, int, "Answers shown in the page's history"),
    Setting("lookahead", 64, int, "Questions scored ahead of the annotator, so requests never wait for the model"),
    Setting("exclude_by", "task", str, "Skip questions already answered: 'task' (same question) or 'input' (same text)"),
    Setting("resend_after", 300, int, "Seconds after which a question sent but not answered is offered again"),
    Setting("allowed_hosts", "", str, "Other host names the page may be opened as (comma-separated; * for any), beside host"),
    Setting("max_request_size", 4_000_000, int, "Largest request body in bytes; a larger one is refused with a 413"),
    Setting("title", "binanno", str, "Page title"),
    Setting("beam_width", 16, int, "ner.teach: analyses kept per sentence when scoring candidate entities"),
    Setting("beam_density", 0.0001, float, "ner.teach: drop analyses below this share of the best one's probability"),
    Setting("sorter", "window", str, "Uncertainty sorter: 'window' ranks a scored look-ahead, 'ema' filters by a moving average, "
            "'pool' ranks a large pool scored again after every update"),
    Setting("pool_size", 20000, int, "Questions the 'pool' sorter ranks at once (a sliding window over larger sources)"),
    Setting("explore", 0.0, float, "Share of questions the 'window' sorter picks at random instead of the most uncertain"),
    Setting("question", "auto", str, "ner.teach: question type: binary (one span), verify (a whole sentence), correct, "
            "label (which label is this span?), boundary (which of these spans?) or auto"),
    Setting("anchors", 0.0, float, "ner.teach: share of the sentences asked as verify cards, the model's surest by rank "
            "in the look-ahead (complete gold that keeps it honest)"),
)

BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}


def home(environ: Mapping[str, str] | None = None) -> Path:
    """``$BINANNO_HOME``, or ``~/.binanno``."""
    environ = os.environ if environ is None else environ
    return Path(environ.get("BINANNO_HOME") or Path.home() / ".binanno").expanduser()


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf8"))
    except json.JSONDecodeError as e:
        raise UserError(f"invalid JSON at line {e.lineno}: {e.msg}; fix or remove the file", path=path) from None
    except UnicodeDecodeError as e:
        raise UserError(f"not UTF-8 text ({e.reason}); fix or remove the file", path=path) from None
    if not isinstance(data, dict):
        raise UserError("expected a JSON object of settings", path=path)
    return data


def _coerce(name: str, value: Any, source: str) -> Any:
    setting = BY_NAME.get(name)
    if setting is None or (value is None and setting.default is None):
        return value
    try:
        if isinstance(value, str):
            return setting.type(value)
        # JSON values arrive typed: int(true) or int(80.5) would quietly give a wrong port.
        if setting.type is int and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValueError(f"expected a whole number, got {json.dumps(value)}")
        if value is None:
            raise ValueError("null: remove the key to use the default")
        return setting.type(value) if setting.type is not str else value
    except (TypeError, ValueError) as e:
        raise UserError(f"bad value for setting '{name}' in {source}: {e}") from None


def resolve(
    recipe_config: Mapping[str, Any] | None = None,
    cli: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> dict[str, Any]:
    """Merge every source into one settings dict, in the documented order.

    Keys that are not in ``SETTINGS`` are kept (recipes and the page read their own),
    but a ``BINANNO_`` variable must name a known setting.
    """
    environ = os.environ if environ is None else environ
    merged: dict[str, Any] = {s.name: s.default for s in SETTINGS}
    merged.update(recipe_config or {})
    for folder in (home(environ), cwd or Path.cwd()):
        # A prodigy.json beside binanno.json is read first, so binanno.json wins where both set a key.
        for path in (folder / "prodigy.json", folder / "binanno.json"):
            for key, value in translate(_read_json(path), str(path), BY_NAME.__contains__, home(environ)).items():
                merged[key] = _coerce(key, value, str(path))
    for key, value in environ.items():
        if not key.startswith("BINANNO_") or key in ("BINANNO_HOME", "BINANNO_DB") or key.startswith("BINANNO_BASIC_AUTH"):
            continue
        name = key[len("BINANNO_"):].lower()
        if name in BY_NAME:
            merged[name] = _coerce(name, value, key)
    if environ.get("BINANNO_DB"):
        merged["db"] = environ["BINANNO_DB"]
    for key, value in (cli or {}).items():
        if value is not None:
            merged[key] = _coerce(key, value, f"--{key.replace('_', '-')}")
    return merged
