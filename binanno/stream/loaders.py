"""Read tasks lazily from JSONL, JSON, CSV or plain text files, or stdin."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import IO, Any, Callable, Iterator

from ..errors import InvalidInput, UserError
from ..hashing import set_hashes
from ..types import Task

LOADERS = ("jsonl", "json", "csv", "tsv", "txt")


def _open(source: str | Path) -> IO[str]:
    if str(source) == "-":
        return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig") if hasattr(sys.stdin, "buffer") else sys.stdin
    path = Path(source)
    if not path.exists():
        raise UserError(f"Can't find input file '{source}': check the path, or pass - to read stdin")
    if path.is_dir():
        raise UserError(f"'{source}' is a directory: pass a JSONL, JSON, CSV or TXT file")
    # utf-8-sig: spreadsheet exports start with a byte-order mark that would hide the 'text' header.
    return path.open(encoding="utf-8-sig", newline="")


def guess_loader(source: str | Path) -> str:
    """The loader for a file's extension; stdin and unknown extensions read JSONL."""
    suffix = Path(str(source)).suffix.lower().lstrip(".")
    return {"ndjson": "jsonl", "text": "txt"}.get(suffix, suffix) if suffix in (*LOADERS, "ndjson", "text") else "jsonl"


def read_jsonl(f: IO[str], name: str) -> Iterator[tuple[int, Any]]:
    for i, line in enumerate(f, 1):
        if not line.strip():
            continue
        try:
            yield i, json.loads(line)
        except json.JSONDecodeError as e:
            yield i, InvalidInput(f"malformed JSON ({e.msg}, column {e.colno}): fix the line or pass --skip-invalid", path=name, line=i)


def read_json(f: IO[str], name: str) -> Iterator[tuple[int, Any]]:
    # A JSON document has to be parsed whole; use JSONL for large sources.
    try:
        data = json.load(f)
    except json.JSONDecodeError as e:
        raise UserError(f"malformed JSON ({e.msg}): fix the file or convert it to JSONL", path=name, line=e.lineno) from None
    if not isinstance(data, list):
        raise UserError("expected a JSON array of tasks (or use JSONL, one task per line)", path=name)
    yield from enumerate(data, 1)


def read_csv(f: IO[str], name: str, delimiter: str = ",") -> Iterator[tuple[int, Any]]:
    reader = csv.DictReader(f, delimiter=delimiter)
    fields = [c.strip() for c in reader.fieldnames or []]
    reader.fieldnames = fields
    if "text" not in fields:
        raise UserError(f"no 'text' column (found: {', '.join(fields) or 'no header'}): name the column with the text 'text'", path=name, line=1)
    for row in reader:
        line = reader.line_num
        task: dict[str, Any] = {"text": row.pop("text")}
        if row.get("label"):
            task["label"] = row.pop("label")
        row.pop("label", None)
        meta = _csv_meta(row.pop("meta", None))
        meta.update({k: v for k, v in row.items() if k and v not in (None, "")})
        if meta:
            task["meta"] = meta
        yield line, task


def _csv_meta(value: str | None) -> dict[str, Any]:
    # A 'meta' column may hold a JSON object of fields; anything else is kept as text.
    if not value:
        return {}
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        return {"meta": value}
    return parsed if isinstance(parsed, dict) else {"meta": value}


def read_tsv(f: IO[str], name: str) -> Iterator[tuple[int, Any]]:
    return read_csv(f, name, delimiter="\t")


def read_txt(f: IO[str], name: str) -> Iterator[tuple[int, Any]]:
    for i, line in enumerate(f, 1):
        text = line.rstrip("\r\n")
        if text.strip():
            yield i, {"text": text}


READERS: dict[str, Callable[[IO[str], str], Iterator[tuple[int, Any]]]] = {
    "jsonl": read_jsonl, "json": read_json, "csv": read_csv, "tsv": read_tsv, "txt": read_txt,
}


def validate_task(task: Any, name: str, line: int) -> Task:
    """Check one raw record; raise InvalidInput naming ``name:line`` if it can't be a task."""
    if isinstance(task, InvalidInput):
        raise task
    if not isinstance(task, dict):
        raise InvalidInput(f"expected a JSON object, got {type(task).__name__}", path=name, line=line)
    text = task.get("text")
    if not isinstance(text, str):
        raise InvalidInput("no 'text' string in the task: every task needs one", path=name, line=line)
    spans = task.get("spans", [])
    if not isinstance(spans, list):
        raise InvalidInput("'spans' must be a list", path=name, line=line)
    for span in spans:
        if not isinstance(span, dict):
            raise InvalidInput("each span must be an object with start, end and label", path=name, line=line)
        start, end = span.get("start"), span.get("end")
        if not isinstance(start, int) or not isinstance(end, int) or not 0 <= start < end <= len(text):
            raise InvalidInput(f"span [{start}, {end}) is outside the text (length {len(text)}): fix its offsets", path=name, line=line)
    if "label" in task and not isinstance(task["label"], str):
        raise InvalidInput("'label' must be a string", path=name, line=line)
    if "meta" in task and not isinstance(task["meta"], dict):
        raise InvalidInput("'meta' must be an object", path=name, line=line)
    return task  # type: ignore[return-value]


class SkipCounter:
    """How many invalid records a stream skipped (reported when the stream ends)."""

    def __init__(self) -> None:
        self.count = 0
        self.first: str | None = None


def get_stream(
    source: str | Path,
    loader: str | None = None,
    *,
    rehash: bool = False,
    dedup: bool = True,
    skip_invalid: bool = False,
    skipped: SkipCounter | None = None,
) -> Iterator[Task]:
    """A lazy, validated, hashed stream of tasks from ``source`` (a path, or ``-`` for stdin).

    Bad records raise a one-line UserError naming file and line, unless ``skip_invalid``,
    which skips them and counts them in ``skipped``. Identical tasks are yielded once.
    The file is opened (and missing files reported) right away, but read only as consumed.
    """
    loader = loader or guess_loader(source)
    if loader not in READERS:
        raise UserError(f"Unknown loader '{loader}': use one of {', '.join(LOADERS)}")
    f = _open(source)
    name = "<stdin>" if str(source) == "-" else str(source)
    return _stream(f, name, READERS[loader], rehash, dedup, skip_invalid, skipped or SkipCounter())


def _decoded(records: Iterator[tuple[int, Any]], name: str) -> Iterator[tuple[int, Any]]:
    # A file in another encoding fails while being read, mid-stream: say so in one line.
    line = 0
    try:
        for line, raw in records:
            yield line, raw
    except UnicodeDecodeError as e:
        after = f" after line {line}" if line else ""
        raise UserError(f"not UTF-8 text{after} ({e.reason}): save the file as UTF-8", path=name) from None


def _stream(f: IO[str], name: str, reader: Callable[[IO[str], str], Iterator[tuple[int, Any]]], rehash: bool,
            dedup: bool, skip_invalid: bool, skipped: SkipCounter) -> Iterator[Task]:
    seen: set[int] = set()
    with f:
        for line, raw in _decoded(reader(f, name), name):
            try:
                task = validate_task(raw, name, line)
            except InvalidInput as e:
                if not skip_invalid:
                    raise
                skipped.count += 1
                skipped.first = skipped.first or str(e)
                continue
            task = set_hashes(task, overwrite=rehash)
            if dedup:
                if task["_task_hash"] in seen:
                    continue
                seen.add(task["_task_hash"])
            yield task
    if skipped.count:
        print(f"Skipped {skipped.count} invalid record(s) in {name} (first: {skipped.first})", file=sys.stderr)
