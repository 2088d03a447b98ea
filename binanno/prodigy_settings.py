"""Prodigy's ``prodigy.json`` keys, and what each one means in binanno.

A settings file (``binanno.json``, or a ``prodigy.json`` beside it) may use Prodigy's names: those binanno
has mean the same (``host``, ``port``, ``batch_size``, ...), Prodigy's database settings become binanno's
``db``, the page's UI keys go to the page as they are, and a key binanno doesn't know, or knows but has
no use for, is a one-line warning naming it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable, Mapping
from urllib.parse import quote

# Prodigy's UI settings, read by the page (or kept for a custom page's template): passed through as they are.
UI_KEYS = frozenset({
    "labels", "instructions", "hide_meta", "show_stats", "show_flag", "choice_style", "choice_auto_accept",
    "html_template", "custom_theme", "theme", "buttons", "keymap", "keymap_by_label", "global_css", "card_css",
    "javascript", "writing_dir", "show_whitespace", "ui_lang", "project_info", "swipe", "swipe_gestures",
    "honor_token_whitespace", "ner_manual_highlight_chars", "ner_manual_label_style", "field_id", "field_label",
    "field_placeholder", "field_rows", "field_autofocus", "field_suggestions", "blocks", "image_manual_spans_key",
    "image_manual_stroke_width", "image_manual_font_size", "image_manual_show_labels", "image_manual_from_center",
    "audio_autoplay", "audio_loop", "audio_rate", "audio_height", "show_bounding_box_center",
    "total_examples_target", "split_sents_threshold", "auto_count_stream",
})
# Prodigy's server settings binanno has no counterpart for: warned about and dropped, so that none
# reaches the page (db_settings holds passwords).
UNSUPPORTED = frozenset({
    "cors", "validate", "auto_exclude_current", "allow_work_stealing", "force_stream_order", "instant_submit",
    "logging", "api_keys", "global_css_dir", "javascript_dir", "db_settings", "custom_host", "auto_create",
})


_warned: set[str] = set()  # the settings are resolved more than once per command: each warning is printed once


def _warn(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        print(f"⚠ {message}", file=sys.stderr, flush=True)


def sqlite_file(options: Mapping[str, Any], home: Path) -> str:
    """The SQLite file of Prodigy's ``db_settings["sqlite"]``: its ``path`` (else ``home``) and ``name`` (else prodigy.db)."""
    return str(Path(options.get("path") or home).expanduser() / options.get("name", "prodigy.db"))


def _prodigy_db(data: Mapping[str, Any], source: str, home: Path) -> str | None:
    """binanno's ``db`` for Prodigy's ``"db": "sqlite"`` / ``"postgresql"`` with its ``db_settings``."""
    kind = data["db"]
    options = (data.get("db_settings") or {}).get(kind) or {}
    if kind == "sqlite":
        return sqlite_file(options, home)
    if kind == "postgresql":
        user = quote(str(options.get("user", "")), safe="")
        password = f":{quote(str(options['password']), safe='')}" if options.get("password") else ""
        host = f"{options.get('host', 'localhost')}:{options.get('port', 5432)}"
        return f"postgresql://{user}{password}{'@' if user else ''}{host}/{options.get('dbname', 'prodigy')}"
    _warn(f"{source}: Prodigy's database '{kind}' isn't one binanno uses (sqlite, postgresql): set db to a path or URL")
    return None


def translate(data: Mapping[str, Any], source: str, known: Callable[[str], bool], home: Path) -> dict[str, Any]:
    """The settings of one file under binanno's names; warns (one line each) about the keys it drops or doesn't know.

    ``known``: whether a name is in binanno's settings table.
    """
    settings: dict[str, Any] = {}
    for key, value in data.items():
        if key == "db" and value in ("sqlite", "postgresql", "mysql"):
            db = _prodigy_db(data, source, home)
            if db:
                settings["db"] = db
        elif key in UNSUPPORTED:
            if key != "db_settings" or data.get("db") not in ("sqlite", "postgresql", "mysql"):
                _warn(f"{source}: Prodigy's setting '{key}' does nothing in binanno: ignored")
        elif known(key) or key in UI_KEYS:
            settings[key] = value
        else:
            _warn(f"{source}: unknown setting '{key}' (check its spelling; the settings are in the README): passed to the recipe and page as it is")
            settings[key] = value
    return settings
