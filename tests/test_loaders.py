"""Lazy loaders: JSONL, JSON, CSV, TSV and text files, or stdin; one-line errors for bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
from helpers_core import malformed_at_line_7, write_jsonl

from binanno.components.loaders import SkipCounter, get_stream, guess_loader
from binanno.errors import InvalidInput, UserError
from binanno.hashing import set_hashes


def texts(stream: object) -> list[str]:
    return [t["text"] for t in stream]  # type: ignore[attr-defined]


def test_jsonl(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "in.jsonl", [
        {"text": "one", "meta": {"id": 1}},
        {"text": "two", "spans": [{"start": 0, "end": 3, "label": "NUM"}]},
        {"text": "three", "label": "X"},
    ])
    path.write_text(path.read_text() + "\n   \n", encoding="utf8")  # blank lines are skipped
    tasks = list(get_stream(path))
    assert texts(tasks) == ["one", "two", "three"]
    assert tasks[0]["meta"] == {"id": 1} and tasks[2]["label"] == "X"
    for task in tasks:
        assert task["_task_hash"] == set_hashes({k: v for k, v in task.items() if not k.startswith("_")})["_task_hash"]


def test_json_array(tmp_path: Path) -> None:
    path = tmp_path / "in.json"
    path.write_text(json.dumps([{"text": "a"}, {"text": "b", "label": "L"}]), encoding="utf8")
    assert texts(get_stream(path)) == ["a", "b"]


def test_json_must_be_an_array(tmp_path: Path) -> None:
    path = tmp_path / "in.json"
    path.write_text(json.dumps({"text": "a"}), encoding="utf8")
    with pytest.raises(UserError, match="in.json: expected a JSON array"):
        list(get_stream(path))


def test_malformed_json_document_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "in.json"
    path.write_text('[\n{"text": "a"},\n{"text": \n]', encoding="utf8")
    with pytest.raises(UserError, match=r"in\.json:4: malformed JSON"):
        list(get_stream(path))


def test_csv_text_label_meta_columns(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text('text,label,meta,source\n"Hello, world",GREETING,"{""id"": 3}",web\nno label,,,\n', encoding="utf8")
    first, second = get_stream(path)
    assert first["text"] == "Hello, world" and first["label"] == "GREETING"
    assert first["meta"] == {"id": 3, "source": "web"}
    assert second == {"text": "no label", "_input_hash": second["_input_hash"], "_task_hash": second["_task_hash"]}


def test_csv_plain_meta_column_is_kept_as_text(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text("text,meta\nhi,from the web\n", encoding="utf8")
    assert next(get_stream(path))["meta"] == {"meta": "from the web"}


def test_csv_with_a_byte_order_mark(tmp_path: Path) -> None:
    # Spreadsheet programs write one; it must not hide the 'text' header.
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufefftext,label\nhello,A\n".encode("utf8"))
    assert list(get_stream(path))[0]["text"] == "hello"


def test_tsv(tmp_path: Path) -> None:
    path = tmp_path / "in.tsv"
    path.write_text("text\tlabel\nhello, you\tA\n", encoding="utf8")
    assert guess_loader(path) == "tsv"
    task = next(get_stream(path))
    assert task["text"] == "hello, you" and task["label"] == "A"


def test_csv_without_text_column(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text("body,label\nhello,A\n", encoding="utf8")
    with pytest.raises(UserError) as e:
        list(get_stream(path))
    assert str(e.value).startswith(f"{path}:1: no 'text' column (found: body, label)")
    assert "\n" not in str(e.value)


def test_plain_text_one_example_per_line(tmp_path: Path) -> None:
    path = tmp_path / "in.txt"
    path.write_text("first line\r\n\nsecond line  \n   \nthird", encoding="utf8")
    assert texts(get_stream(path)) == ["first line", "second line  ", "third"]


@pytest.mark.parametrize("name,expected", [
    ("a.jsonl", "jsonl"), ("a.ndjson", "jsonl"), ("a.JSON", "json"), ("a.csv", "csv"), ("a.tsv", "tsv"),
    ("a.txt", "txt"), ("a.text", "txt"), ("-", "jsonl"), ("a.data", "jsonl"),
])
def test_guess_loader(name: str, expected: str) -> None:
    assert guess_loader(name) == expected


def test_explicit_loader_overrides_extension(tmp_path: Path) -> None:
    path = tmp_path / "in.data"
    path.write_text("just text\n", encoding="utf8")
    assert texts(get_stream(path, loader="txt")) == ["just text"]
    with pytest.raises(UserError, match="Unknown loader 'xml'"):
        get_stream(path, loader="xml")


def test_stdin(tmp_path: Path) -> None:
    code = "from binanno import get_stream; print([t['text'] for t in get_stream('-')])"
    out = subprocess.run([sys.executable, "-c", code], input='{"text": "from stdin"}\n{"text": "é"}\n',
                         capture_output=True, text=True, encoding="utf8", check=True, env={**os.environ, "PYTHONIOENCODING": "utf8"})
    assert out.stdout.strip() == "['from stdin', 'é']"


def test_duplicates_are_yielded_once(tmp_path: Path) -> None:
    rows = [{"text": "a"}, {"text": "b"}, {"text": "a"}, {"text": "a", "meta": {"other": 1}},
            {"text": "a", "label": "X"}, {"text": "a", "label": "X"}]
    path = write_jsonl(tmp_path / "in.jsonl", rows)
    tasks = list(get_stream(path))
    assert [(t["text"], t.get("label")) for t in tasks] == [("a", None), ("b", None), ("a", "X")]
    assert len(list(get_stream(path, dedup=False))) == len(rows)


def test_rehash_replaces_stale_hashes(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "in.jsonl", [{"text": "a", "_input_hash": 1, "_task_hash": 2}])
    assert next(get_stream(path))["_task_hash"] == 2
    assert next(get_stream(path, rehash=True))["_task_hash"] == set_hashes({"text": "a"})["_task_hash"]


def test_streams_lazily(tmp_path: Path) -> None:
    # A bad line far down is only found when the stream gets there.
    path = malformed_at_line_7(tmp_path / "in.jsonl")
    stream = get_stream(path)
    assert [next(stream)["text"] for _ in range(6)] == [f"Example number {i}" for i in range(1, 7)]
    with pytest.raises(InvalidInput):
        next(stream)


def test_missing_file_fails_when_the_stream_is_made(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="Can't find input file .*nope.jsonl"):
        get_stream(tmp_path / "nope.jsonl")
    with pytest.raises(UserError, match="is a directory"):
        get_stream(tmp_path)


def test_malformed_json_line_7(tmp_path: Path) -> None:
    path = malformed_at_line_7(tmp_path / "in.jsonl")
    with pytest.raises(UserError) as e:
        list(get_stream(path))
    message = str(e.value)
    assert message.startswith(f"{path}:7: malformed JSON") and "--skip-invalid" in message and "\n" not in message


@pytest.mark.parametrize("row,needle", [
    ({"text": "short", "spans": [{"start": 2, "end": 9, "label": "X"}]}, "span [2, 9) is outside the text (length 5)"),
    ({"text": "short", "spans": [{"start": -1, "end": 2, "label": "X"}]}, "outside the text"),
    ({"text": "short", "spans": [{"start": 3, "end": 3, "label": "X"}]}, "outside the text"),
    ({"text": "short", "spans": [{"start": "0", "end": 2, "label": "X"}]}, "outside the text"),
    ({"text": "short", "spans": "0-2"}, "'spans' must be a list"),
    ({"text": "short", "spans": [[0, 2]]}, "each span must be an object"),
    ({"words": "no text"}, "no 'text' string"),
    ({"text": 5}, "no 'text' string"),
    (["text"], "expected a JSON object, got list"),
    ({"text": "a", "label": 3}, "'label' must be a string"),
    ({"text": "a", "meta": "x"}, "'meta' must be an object"),
])
def test_invalid_tasks_name_file_and_line(tmp_path: Path, row: object, needle: str) -> None:
    path = write_jsonl(tmp_path / "in.jsonl", [{"text": "fine"}, row])
    with pytest.raises(InvalidInput) as e:
        list(get_stream(path))
    assert str(e.value).startswith(f"{path}:2: ") and needle in str(e.value)


def test_skip_invalid_counts_what_it_skipped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = malformed_at_line_7(tmp_path / "in.jsonl")
    with path.open("a", encoding="utf8") as f:
        f.write(json.dumps({"text": "ab", "spans": [{"start": 0, "end": 5, "label": "X"}]}) + "\n")
    skipped = SkipCounter()
    tasks = list(get_stream(path, skip_invalid=True, skipped=skipped))
    assert len(tasks) == 9 and skipped.count == 2
    assert skipped.first is not None and ":7: malformed JSON" in skipped.first
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Skipped 2 invalid record(s)" in err


def test_file_not_in_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("good\ncafé\n".encode("latin-1"))
    with pytest.raises(UserError, match="latin1.txt:2: not UTF-8 text.*save the file as UTF-8"):
        list(get_stream(path))


def _peak_while_consuming(path: Path, limit: int) -> tuple[int, int]:
    stream = get_stream(path, dedup=False)
    tracemalloc.start()
    try:
        count = sum(1 for _, _task in zip(range(limit), stream))
        return count, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        stream.close()  # type: ignore[attr-defined]


def _write_lines(path: Path, n: int) -> Path:
    with path.open("w", encoding="utf8") as f:
        for start in range(0, n, 100_000):
            f.write("".join(f'{{"text": "Example number {i} of many"}}\n' for i in range(start, min(n, start + 100_000))))
    return path


def test_memory_stays_flat_while_streaming(tmp_path: Path) -> None:
    # The same peak for 1,000 and 20,000 tasks: nothing accumulates (the 1,000,000-line
    # version is the slow test below).
    path = _write_lines(tmp_path / "many.jsonl", 20_000)
    small_count, small = _peak_while_consuming(path, 1_000)
    big_count, big = _peak_while_consuming(path, 20_000)
    assert (small_count, big_count) == (1_000, 20_000)
    # 20,000 kept tasks would take several MB; a flat stream stays within noise.
    assert big < small + 256 * 1024, (small, big)


MEMORY_PROBE = """
import resource, sys
from binanno import get_stream
n = sum(1 for _, _task in zip(range(int(sys.argv[2])), get_stream(sys.argv[1], dedup=False)))
print(n, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


@pytest.mark.slow
def test_a_million_lines_stream_with_flat_memory(tmp_path: Path) -> None:
    path = _write_lines(tmp_path / "million.jsonl", 1_000_000)
    peaks = {}
    for n in (1_000, 1_000_000):
        out = subprocess.run([sys.executable, "-c", MEMORY_PROBE, str(path), str(n)], capture_output=True,
                             text=True, check=True).stdout.split()
        assert int(out[0]) == n
        peaks[n] = int(out[1])  # KiB
    # A million kept tasks would add hundreds of MB; streaming adds next to nothing.
    assert peaks[1_000_000] - peaks[1_000] < 20 * 1024, peaks
