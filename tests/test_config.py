"""Settings: defaults < recipe config < $BINANNO_HOME/binanno.json < ./binanno.json < BINANNO_* < flags."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers_core import assert_one_line_error, binanno

from binanno.config import SETTINGS, UserError, home, resolve, to_bool


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    """A BINANNO_HOME and a working directory, both empty."""
    (tmp_path / "home").mkdir()
    (tmp_path / "cwd").mkdir()
    return tmp_path / "home", tmp_path / "cwd"


def write_settings(folder: Path, settings: dict[str, Any]) -> None:
    (folder / "binanno.json").write_text(json.dumps(settings), encoding="utf8")


def test_defaults(dirs: tuple[Path, Path]) -> None:
    home_dir, cwd = dirs
    settings = resolve(environ={"BINANNO_HOME": str(home_dir)}, cwd=cwd)
    assert settings == {s.name: s.default for s in SETTINGS}
    assert settings["port"] == 8080 and settings["host"] == "127.0.0.1" and settings["db"] is None


def test_every_setting_is_declared_with_help() -> None:
    names = [s.name for s in SETTINGS]
    assert len(names) == len(set(names))
    assert all(s.help for s in SETTINGS)


LAYERS = ("recipe", "home", "cwd", "env", "cli")


@pytest.mark.parametrize("top", LAYERS)
def test_each_layer_overrides_the_ones_below(dirs: tuple[Path, Path], top: str) -> None:
    home_dir, cwd = dirs
    # Every layer up to `top` sets the port (and batch size) to its own number.
    values = {layer: 9000 + i for i, layer in enumerate(LAYERS)}
    used = LAYERS[:LAYERS.index(top) + 1]
    environ = {"BINANNO_HOME": str(home_dir)}
    recipe_config = cli = None
    if "recipe" in used:
        recipe_config = {"port": values["recipe"], "batch_size": 1}
    if "home" in used:
        write_settings(home_dir, {"port": values["home"], "batch_size": 2})
    if "cwd" in used:
        write_settings(cwd, {"port": values["cwd"], "batch_size": 3})
    if "env" in used:
        environ.update({"BINANNO_PORT": str(values["env"]), "BINANNO_BATCH_SIZE": "4"})
    if "cli" in used:
        cli = {"port": values["cli"], "batch_size": 5}
    settings = resolve(recipe_config, cli=cli, environ=environ, cwd=cwd)
    assert settings["port"] == values[top]
    assert settings["batch_size"] == LAYERS.index(top) + 1


def test_layers_merge_key_by_key(dirs: tuple[Path, Path]) -> None:
    home_dir, cwd = dirs
    write_settings(home_dir, {"title": "from home", "host": "0.0.0.0"})
    write_settings(cwd, {"title": "from cwd", "custom": [1, 2]})
    settings = resolve({"title": "recipe", "labels": ["A"]}, cli={"port": 1234, "host": None},
                       environ={"BINANNO_HOME": str(home_dir), "BINANNO_LOOKAHEAD": "7"}, cwd=cwd)
    assert settings["title"] == "from cwd"
    assert settings["host"] == "0.0.0.0"  # a flag left unset (None) doesn't override
    assert settings["port"] == 1234 and settings["lookahead"] == 7
    assert settings["labels"] == ["A"] and settings["custom"] == [1, 2]  # recipe keys pass through


def test_env_values_are_parsed(dirs: tuple[Path, Path]) -> None:
    home_dir, cwd = dirs
    environ = {"BINANNO_HOME": str(home_dir), "BINANNO_FEED_OVERLAP": "yes", "BINANNO_RESEND_AFTER": "60",
               "BINANNO_DB": "sqlite:///x.db", "BINANNO_BASIC_AUTH_USER": "me", "BINANNO_UNRELATED": "1",
               "OTHER_PORT": "1"}
    settings = resolve(environ=environ, cwd=cwd)
    assert settings["feed_overlap"] is True and settings["resend_after"] == 60
    assert settings["db"] == "sqlite:///x.db"
    assert "basic_auth_user" not in settings and "unrelated" not in settings


def test_json_values_are_parsed(dirs: tuple[Path, Path]) -> None:
    home_dir, cwd = dirs
    write_settings(cwd, {"port": "9001", "feed_overlap": "true", "batch_size": 3})
    settings = resolve(environ={"BINANNO_HOME": str(home_dir)}, cwd=cwd)
    assert settings["port"] == 9001 and settings["feed_overlap"] is True and settings["batch_size"] == 3


@pytest.mark.parametrize("source,setting,value", [
    ("env", "port", "eighty"), ("env", "feed_overlap", "maybe"), ("cli", "batch_size", "ten"),
    ("json", "port", True), ("json", "port", 80.5), ("json", "lookahead", "lots"), ("json", "port", None),
])
def test_bad_values_are_user_errors(dirs: tuple[Path, Path], source: str, setting: str, value: Any) -> None:
    home_dir, cwd = dirs
    environ = {"BINANNO_HOME": str(home_dir)}
    cli = None
    if source == "env":
        environ[f"BINANNO_{setting.upper()}"] = value
    elif source == "cli":
        cli = {setting: value}
    else:
        write_settings(cwd, {setting: value})
    with pytest.raises(UserError) as e:
        resolve(cli=cli, environ=environ, cwd=cwd)
    assert f"bad value for setting '{setting}'" in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize("where", ["home", "cwd"])
def test_invalid_binanno_json(dirs: tuple[Path, Path], where: str) -> None:
    home_dir, cwd = dirs
    path = (home_dir if where == "home" else cwd) / "binanno.json"
    path.write_text('{\n  "port": 9000,\n  "host": \n}', encoding="utf8")
    with pytest.raises(UserError) as e:
        resolve(environ={"BINANNO_HOME": str(home_dir)}, cwd=cwd)
    message = str(e.value)
    assert message.startswith(f"{path}: invalid JSON at line 4") and "\n" not in message


@pytest.mark.parametrize("content", [b"[1, 2]", b'"port"', "{\"title\": \"caf\xe9\"}".encode("latin-1")])
def test_binanno_json_must_be_a_utf8_object(dirs: tuple[Path, Path], content: bytes) -> None:
    home_dir, cwd = dirs
    (cwd / "binanno.json").write_bytes(content)
    with pytest.raises(UserError, match="binanno.json: "):
        resolve(environ={"BINANNO_HOME": str(home_dir)}, cwd=cwd)


def test_home(tmp_path: Path) -> None:
    assert home({"BINANNO_HOME": str(tmp_path)}) == tmp_path
    assert home({}) == Path.home() / ".binanno"


@pytest.mark.parametrize("value,expected", [
    ("1", True), ("TRUE", True), ("yes", True), ("on", True), (True, True),
    ("0", False), ("False", False), ("no", False), (" off ", False), (False, False),
])
def test_to_bool(value: Any, expected: bool) -> None:
    assert to_bool(value) is expected


def test_to_bool_rejects_other_words() -> None:
    with pytest.raises(ValueError):
        to_bool("sometimes")


def test_cli_reports_an_invalid_binanno_json_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "binanno.json").write_text("{oops", encoding="utf8")
    proc = binanno("stats", home=tmp_path, cwd=tmp_path)
    assert_one_line_error(proc, "binanno.json: invalid JSON at line 1")


def test_cli_commands_use_the_db_from_binanno_json(tmp_path: Path) -> None:
    # ./binanno.json picks the database for commands as well as for the server.
    work = tmp_path / "work"
    work.mkdir()
    write_settings(work, {"db": str(tmp_path / "chosen.db")})
    (work / "in.jsonl").write_text('{"text": "hello"}\n', encoding="utf8")
    assert binanno("db-in", "ds", "in.jsonl", home=tmp_path, cwd=work).returncode == 0
    assert (tmp_path / "chosen.db").exists() and not (tmp_path / "binanno.db").exists()
    # and a flag beats the file
    proc = binanno("stats", "--json", "--db", str(tmp_path / "other.db"), home=tmp_path, cwd=work)
    assert json.loads(proc.stdout) == {}
