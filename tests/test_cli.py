"""The `binanno` command: generated help, one-line errors with exit code 1, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers_core import assert_one_line_error, binanno, malformed_at_line_7, write_jsonl

from binanno import __version__
from binanno.cli import build_parser, main, overview
from binanno.components.db import Database
from binanno.config import resolve
from binanno.core import get_recipe
from binanno.errors import UserError


@pytest.fixture(autouse=True)
def no_binanno_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # main() sets BINANNO_DB for the recipes it runs; monkeypatch puts the environment back.
    monkeypatch.delenv("BINANNO_DB", raising=False)
    monkeypatch.setenv("BINANNO_HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)


def test_help_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in ([], ["--help"], ["-h"], ["help"]):
        assert main(argv) == 0
        assert capsys.readouterr().out.strip() == overview()
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == __version__


def test_overview_has_one_line_per_recipe() -> None:
    text = overview()
    for name in ("mark", "db-out", "db-in", "drop", "stats"):
        assert sum(1 for line in text.splitlines() if line.split()[:1] == [name]) == 1


@pytest.mark.parametrize("argv,needles", [
    (["mrak", "ds", "x.jsonl"], ["Unknown recipe 'mrak'", "Did you mean: mark?", "binanno --help"]),
    (["mark"], ["binanno mark: the following arguments are required: dataset, source", "binanno mark --help"]),
    (["mark", "ds", "in.jsonl", "--bogus"], ["unrecognized arguments: --bogus"]),
    (["mark", "ds", "in.jsonl", "--loader", "xml"], ["argument --loader: invalid choice: 'xml'"]),
    (["mark", "ds", "in.jsonl", "--port", "http"], ["argument --port: invalid int value: 'http'"]),
    (["db-out", "ds", "--answer", "maybe"], ["invalid choice: 'maybe'"]),
    (["drop"], ["required: dataset"]),
    (["mark", "ds", "nope.jsonl"], ["Can't find input file 'nope.jsonl'", "pass - to read stdin"]),
    (["-F", "missing.py", "mark"], ["Can't find recipe file 'missing.py'"]),
])
def test_user_errors_are_one_line(argv: list[str], needles: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 1
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("✘ "), captured.err
    for needle in needles:
        assert needle in lines[0]


def test_unknown_recipe_in_a_real_process(tmp_path: Path) -> None:
    assert_one_line_error(binanno("db-ot", "ds", home=tmp_path), "Unknown recipe 'db-ot'", "Did you mean: db-out")


def test_bad_args_in_a_real_process(tmp_path: Path) -> None:
    proc = binanno("db-in", "ds", home=tmp_path)
    assert_one_line_error(proc, "binanno db-in: the following arguments are required: source")
    assert proc.stdout == ""


def test_malformed_line_7_through_mark(tmp_path: Path) -> None:
    # The bad line is inside the first look-ahead, so the server never starts.
    path = malformed_at_line_7(tmp_path / "file.jsonl")
    proc = binanno("mark", "ds", str(path), "--port", "0", "--db", str(tmp_path / "x.db"), home=tmp_path)
    assert_one_line_error(proc, f"{path}:7: malformed JSON", "--skip-invalid")
    assert "Starting the web server" not in proc.stdout


def test_span_outside_its_text_through_mark(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "spans.jsonl", [{"text": "short", "spans": [{"start": 0, "end": 40, "label": "X"}]}])
    proc = binanno("mark", "ds", str(path), "--port", "0", "--db", str(tmp_path / "x.db"), home=tmp_path)
    assert_one_line_error(proc, f"{path}:1: span [0, 40) is outside the text (length 5)")


def test_csv_without_text_column_through_db_in(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text("body\nhello\n", encoding="utf8")
    proc = binanno("db-in", "ds", str(path), "--db", str(tmp_path / "x.db"), home=tmp_path)
    assert_one_line_error(proc, f"{path}:1: no 'text' column")


def test_port_in_use_is_one_line(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        write_jsonl(tmp_path / "in.jsonl", [{"text": "a"}])
        assert main(["mark", "ds", "in.jsonl", "--port", str(port), "--host", "127.0.0.1"]) == 1


def test_options_may_come_before_an_optional_positional(tmp_path: Path) -> None:
    db = Database(tmp_path / "x.db")
    db.add_answers("ds", [{"text": "a", "answer": "accept"}, {"text": "b", "answer": "reject"}])
    db.close()
    assert main(["db-out", "ds", "--answer", "reject", "out.jsonl", "--db", str(tmp_path / "x.db")]) == 0
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [r["text"] for r in rows] == ["b"]


def test_trailing_underscore_is_dropped_from_flags() -> None:
    parser = build_parser(get_recipe("stats"))
    assert parser.parse_args(["--json"]).json_ is True and parser.parse_args(["--json-"]).json_ is True
    assert parser.parse_args([]).json_ is False
    assert "--json " in parser.format_help() and "--json-" not in parser.format_help()


def test_annotations_per_task_is_a_flag_and_beats_the_environment() -> None:
    parser = build_parser(get_recipe("mark"))
    namespace = parser.parse_args(["ds", "in.jsonl", "--annotations-per-task", "1.5"])
    settings = resolve(cli={"annotations_per_task": namespace.annotations_per_task},
                       environ={"BINANNO_ANNOTATIONS_PER_TASK": "3"})
    assert settings["annotations_per_task"] == 1.5
    with pytest.raises(UserError, match="--annotations-per-task"):
        parser.parse_args(["ds", "in.jsonl", "--annotations-per-task", "two"])


def test_settings_flags_differ_for_recipes_and_commands() -> None:
    server = build_parser(get_recipe("mark")).format_help()
    command = build_parser(get_recipe("db-out")).format_help()
    for flag in ("--port", "--host", "--batch-size", "--feed-overlap", "--annotations-per-task", "--db"):
        assert flag in server
    assert "--db" in command and "--port" not in command


def test_a_reader_that_leaves_early_gets_no_traceback(tmp_path: Path) -> None:
    # `binanno db-out ds | head -1`
    db = Database(tmp_path / "big.db")
    db.add_answers("big", ({"text": f"row {i} " + "x" * 100, "answer": "accept"} for i in range(5000)))
    db.close()
    proc = subprocess.Popen([sys.executable, "-m", "binanno", "db-out", "big", "--db", str(tmp_path / "big.db")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    assert json.loads(proc.stdout.readline())["text"].startswith("row 0")
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert "Traceback" not in err and proc.returncode == 1
