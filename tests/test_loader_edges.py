"""Input files at the edges: NaN, huge fields, deep nesting, lone surrogates, bad bytes, unbalanced
quotes, empty texts. Each is one line naming file:line and exit 1, or skipped with a count."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers_core import assert_one_line_error, binanno

from binanno.components.db import Database
from binanno.components.loaders import SkipCounter, get_stream
from binanno.errors import UserError

GOOD = [json.dumps({"text": f"Example number {i}"}) for i in range(10)]
DEEP = 100_000

BAD_LINES = [
    ('{"text": "a", "meta": {"score": NaN}}', "NaN is not valid JSON"),
    ('{"text": "a", "meta": {"score": Infinity}}', "Infinity is not valid JSON"),
    ('{"text": "a", "meta": {"score": -Infinity}}', "-Infinity is not valid JSON"),
    ('{"text": "a", "meta": {"score": 1e999}}', "too large"),
    ('{"text": "a", "meta": {"n": 1' + "0" * 5000 + "}}", "malformed JSON"),
    ('{"text": "a", "meta": ' + "[" * DEEP + "]" * DEEP + "}", "nested too deeply"),
    ('{"text": "broken \\ud800 surrogate"}', "text: a lone surrogate"),
    ('{"text": "a", "meta": {"note": "\\udfff"}}', "meta.note: a lone surrogate"),
    ('{"text": ""}', "empty 'text'"),
    ('{"text": "   "}', "empty 'text'"),
]


def with_line_3(path: Path, line: str | bytes) -> Path:
    lines = [g.encode() for g in GOOD]
    lines[2] = line if isinstance(line, bytes) else line.encode()
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


@pytest.mark.parametrize(("line", "needle"), BAD_LINES)
def test_a_bad_jsonl_line_names_file_and_line(tmp_path: Path, line: str, needle: str) -> None:
    path = with_line_3(tmp_path / "in.jsonl", line)
    with pytest.raises(UserError) as e:
        list(get_stream(path))
    assert str(e.value).startswith(f"{path}:3: ") and needle in str(e.value) and "\n" not in str(e.value)
    skipped = SkipCounter()
    assert len(list(get_stream(path, skip_invalid=True, skipped=skipped))) == 9 and skipped.count == 1


def test_bad_utf8_is_reported_at_its_own_line(tmp_path: Path) -> None:
    # Far past the first 8 KB a text wrapper decodes at once: the old message named no line.
    lines = [json.dumps({"text": f"Example number {i}"}).encode() for i in range(5000)]
    lines[4321] = b'{"text": "caf\xe9"}'
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    with pytest.raises(UserError, match=rf"^{path}:4322: not UTF-8 text"):
        list(get_stream(path))
    skipped = SkipCounter()
    assert len(list(get_stream(path, skip_invalid=True, skipped=skipped))) == 4999 and skipped.count == 1
    txt = tmp_path / "in.txt"
    txt.write_bytes(b"one\ntwo\n\xff\xfe three\n")
    with pytest.raises(UserError, match=rf"^{txt}:3: not UTF-8 text"):
        list(get_stream(txt))


def test_json_document_edges(tmp_path: Path) -> None:
    cases = {"nan.json": '[{"text": "a"},\n {"text": "b", "meta": {"s": NaN}}]',
             "deep.json": "[" * DEEP + "]" * DEEP, "bytes.json": None}
    for name, content in cases.items():
        path = tmp_path / name
        if content is None:
            path.write_bytes(b'[{"text": "a"},\n{"text": "b"},\n{"text": "\xff"}]')
        else:
            path.write_text(content, encoding="utf8")
        with pytest.raises(UserError) as e:
            list(get_stream(path))
        assert str(e.value).startswith(str(path)) and "\n" not in str(e.value)
    assert ":3: not UTF-8" in str(e.value)


def test_a_csv_text_over_131072_characters_is_read(tmp_path: Path) -> None:
    long_text = "word " * 40_000
    path = tmp_path / "long.csv"
    path.write_text(f"text,label\n{long_text},A\nshort,B\n", encoding="utf8")
    tasks = list(get_stream(path))
    assert [len(t["text"]) for t in tasks] == [len(long_text), 5]


def test_an_unbalanced_csv_quote_is_an_error_not_merged_rows(tmp_path: Path) -> None:
    path = tmp_path / "quote.csv"
    path.write_text('text,label\nfine,A\n"unclosed,B\nsecond,C\nthird,D\n', encoding="utf8")
    with pytest.raises(UserError, match=rf"^{path}:3: malformed CSV \(a quote that never closes\)"):
        list(get_stream(path))
    junk = tmp_path / "junk.csv"
    junk.write_text('text,label\n"quoted"after,A\n', encoding="utf8")
    with pytest.raises(UserError, match=rf"^{junk}:2: malformed CSV"):
        list(get_stream(junk))
    # A quoted field may still span lines.
    multi = tmp_path / "multi.csv"
    multi.write_text('text,label\n"two\nlines",A\n', encoding="utf8")
    assert [t["text"] for t in get_stream(multi)] == ["two\nlines"]


def test_empty_csv_texts_are_refused_or_skipped(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("text,label\nfine,A\n,B\n", encoding="utf8")
    with pytest.raises(UserError, match=rf"^{path}:3: empty 'text'"):
        list(get_stream(path))
    assert [t["text"] for t in get_stream(path, skip_invalid=True)] == ["fine"]


@pytest.mark.parametrize("line", [line for line, _ in BAD_LINES[:3]] + [BAD_LINES[6][0]])
def test_a_bad_line_through_mark_is_one_line_and_leaves_no_dataset(tmp_path: Path, line: str) -> None:
    # NaN at line 3 used to start the server and fail its first fetch with a 500.
    path = with_line_3(tmp_path / "in.jsonl", line)
    db = tmp_path / "b.db"
    proc = binanno("mark", "ds", str(path), "--db", str(db), "--port", "0", home=tmp_path)
    assert_one_line_error(proc, f"{path}:3: ")
    assert "ds" not in Database(db).datasets()


RECIPE_WITH_A_NAN_SCORE = '''
import binanno


@binanno.recipe("nan.stream", dataset=binanno.Arg(help="Dataset"))
def nan_stream(dataset):
    """A stream whose third task carries a NaN score and whose eighth an infinite option score, as a broken model might give."""
    tasks = [{"text": f"Example {i}", "meta": {"score": float("nan") if i == 2 else 0.5},
              "options": [{"id": "A", "text": "A", "score": float("inf") if i == 7 else 0.5}]} for i in range(12)]
    return {"dataset": dataset, "stream": tasks, "view_id": "text"}
'''


def test_a_task_that_is_not_json_never_fails_a_fetch(start_server: object, tmp_path: Path) -> None:
    recipe = tmp_path / "nan_recipe.py"
    recipe.write_text(RECIPE_WITH_A_NAN_SCORE, encoding="utf8")
    server = start_server("nan.stream", "ds", "-F", str(recipe))  # type: ignore[operator]
    texts = [t["text"] for t in server.questions()] + [t["text"] for t in server.questions()]
    assert texts == [f"Example {i}" for i in range(12) if i not in (2, 7)]
    assert "Skipped a question that isn't valid JSON" in server.stop()
