"""Read tasks lazily from JSONL, JSON, CSV or plain text files, or stdin."""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from pathlib import Path
from typing import IO, Any, Callable, Iterator

from ..answers import span_error, unstorable
from ..errors import InvalidInput, UserError
from ..hashing import set_hashes, task_key
from ..types import Task

LOADERS = ("jsonl", "json", "csv", "tsv", "txt")
BOM = b"\xef\xbb\xbf"
MAX_CSV_FIELD = 2**30  # characters: any text that fits in memory


def _open(source: str | Path) -> IO[bytes]:
    # Bytes, decoded line by line: a bad byte is then reported at its own line, not at the
    # start of whichever 8 KB chunk a text wrapper happened to be decoding.
    if str(source) == "-":
        return sys.stdin.buffer if hasattr(sys.stdin, "buffer") else io.BytesIO(sys.stdin.read().encode("utf8"))
    path = Path(source)
    if not path.exists():
        raise UserError(f"Can't find input file '{source}': check the path, or pass - to read stdin")
    if path.is_dir():
        raise UserError(f"'{source}' is a directory: pass a JSONL, JSON, CSV or TXT file")
    return path.open("rb")


def guess_loader(source: str | Path) -> str:
    """The loader for a file's extension; stdin and unknown extensions read JSONL."""
    suffix = Path(str(source)).suffix.lower().lstrip(".")
    return {"ndjson": "jsonl", "text": "txt"}.get(suffix, suffix) if suffix in (*LOADERS, "ndjson", "text") else "jsonl"


def _lines(f: IO[bytes], name: str) -> Iterator[tuple[int, str | InvalidInput]]:
    """Numbered lines as text; a line that isn't UTF-8 comes as an InvalidInput naming it."""
    for i, raw in enumerate(f, 1):
        if i == 1 and raw.startswith(BOM):  # spreadsheet exports start with one; it would hide the header
            raw = raw[len(BOM):]
        try:
            yield i, raw.decode("utf-8")
        except UnicodeDecodeError as e:
            yield i, InvalidInput(f"not UTF-8 text (byte {e.start + 1}: {e.reason}): save the file as UTF-8 or pass --skip-invalid",
                                  path=name, line=i)


def _finite(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):  # 1e999 parses as Infinity
        raise ValueError(f"{literal[:20]} is too large for a number")
    return value


def _no_constant(literal: str) -> Any:
    raise ValueError(f"{literal} is not valid JSON")


def _loads(text: str) -> Any:
    """Strict JSON: no NaN or Infinity, which Python accepts and no browser or database takes."""
    return json.loads(text, parse_constant=_no_constant, parse_float=_finite)


def _json_error(e: Exception) -> str:
    if isinstance(e, json.JSONDecodeError):
        return f"malformed JSON ({e.msg}, column {e.colno})"
    if isinstance(e, RecursionError):
        return "malformed JSON (nested too deeply)"
    return f"malformed JSON ({str(e)[:80]})"  # NaN, Infinity, a 5,000-digit number


def read_jsonl(f: IO[bytes], name: str) -> Iterator[tuple[int, Any]]:
    for i, line in _lines(f, name):
        if isinstance(line, InvalidInput):
            yield i, line
            continue
        if not line.strip():
            continue
        try:
            yield i, _loads(line)
        except (ValueError, RecursionError) as e:
            yield i, InvalidInput(f"{_json_error(e)}: fix the line or pass --skip-invalid", path=name, line=i)


def read_json(f: IO[bytes], name: str) -> Iterator[tuple[int, Any]]:
    # A JSON document has to be parsed whole; use JSONL for large sources.
    raw = f.read()
    if raw.startswith(BOM):
        raw = raw[len(BOM):]
    try:
        data = _loads(raw.decode("utf-8"))
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        raise UserError(f"not UTF-8 text ({e.reason}): save the file as UTF-8", path=name, line=line) from None
    except json.JSONDecodeError as e:
        raise UserError(f"malformed JSON ({e.msg}): fix the file or convert it to JSONL", path=name, line=e.lineno) from None
    except (ValueError, RecursionError) as e:
        raise UserError(f"{_json_error(e)}: fix the file or convert it to JSONL", path=name) from None
    if not isinstance(data, list):
        raise UserError("expected a JSON array of tasks (or use JSONL, one task per line)", path=name)
    yield from enumerate(data, 1)


def _csv_lines(f: IO[bytes], name: str) -> Iterator[str]:
    # A CSV record may span lines, so a bad byte stops the file rather than skipping a record.
    for _, line in _lines(f, name):
        if isinstance(line, InvalidInput):
            raise UserError(str(line).replace(" or pass --skip-invalid", ""))
        yield line


def read_csv(f: IO[bytes], name: str, delimiter: str = ",") -> Iterator[tuple[int, Any]]:
    # Long texts are fine (the csv module stops at 131,072 characters by default); strict mode
    # turns an unbalanced quote into an error instead of a field that swallows the next rows.
    csv.field_size_limit(max(csv.field_size_limit(), MAX_CSV_FIELD))
    reader = csv.DictReader(_csv_lines(f, name), delimiter=delimiter, strict=True)
    try:
        header = reader.fieldnames
    except csv.Error as e:
        raise UserError(f"malformed CSV header ({e}): fix the first line", path=name, line=1) from None
    fields = [c.strip() for c in header or []]
    reader.fieldnames = fields
    if "text" not in fields:
        raise UserError(f"no 'text' column (found: {', '.join(fields) or 'no header'}): name the column with the text 'text'", path=name, line=1)
    while True:
        first = reader.line_num + 1  # where this record starts, for an error inside it
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            why = "a quote that never closes" if "end of data" in str(e) else str(e)
            raise UserError(f"malformed CSV ({why}): balance the quotes (\"\" inside a quoted field)", path=name, line=first) from None
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
        parsed = _loads(value)
    except (ValueError, RecursionError):
        return {"meta": value}
    return parsed if isinstance(parsed, dict) else {"meta": value}


def read_tsv(f: IO[bytes], name: str) -> Iterator[tuple[int, Any]]:
    return read_csv(f, name, delimiter="\t")


def read_txt(f: IO[bytes], name: str) -> Iterator[tuple[int, Any]]:
    for i, line in _lines(f, name):
        if isinstance(line, InvalidInput):
            yield i, line
            continue
        text = line.rstrip("\r\n")
        if text.strip():
            yield i, {"text": text}


READERS: dict[str, Callable[[IO[bytes], str], Iterator[tuple[int, Any]]]] = {
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
    if not text.strip():
        raise InvalidInput("empty 'text': give the task some text or remove it", path=name, line=line)
    bad = unstorable(task)
    if bad:
        raise InvalidInput(bad, path=name, line=line)
    spans = task.get("spans", [])
    if not isinstance(spans, list):
        raise InvalidInput("'spans' must be a list", path=name, line=line)
    for span in spans:
        error = span_error(span, text)  # the same rule as for answers (binanno.answers)
        if error:
            raise InvalidInput(error, path=name, line=line)
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


def _stream(f: IO[bytes], name: str, reader: Callable[[IO[bytes], str], Iterator[tuple[int, Any]]], rehash: bool,
            dedup: bool, skip_invalid: bool, skipped: SkipCounter) -> Iterator[Task]:
    seen: set[str] = set()
    with f:
        for line, raw in reader(f, name):
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
                key = task_key(task)  # not the 32-bit hash: two texts may share one
                if key in seen:
                    continue
                seen.add(key)
            yield task
    if skipped.count:
        print(f"Skipped {skipped.count} invalid record(s) in {name} (first: {skipped.first})", file=sys.stderr)
