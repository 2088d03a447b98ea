"""Read tasks lazily from JSONL, JSON, CSV or plain text files, stdin, folders of media, or a dataset.

Prodigy's loaders by their names: ``JSONL``, ``JSON``, ``CSV``, ``TXT`` (here), ``Images``,
``ImageServer``, ``Audio``, ``AudioServer`` (binanno.components.media), and ``get_stream``, which
picks one from the source (``dataset:NAME`` reads a dataset's answers back).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import sys
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Iterator

from ..answers import has_content, span_error, unstorable
from ..errors import InvalidInput, UserError
from ..hashing import set_hashes, task_key
from ..types import CONTENT_KEYS, MEDIA_KEYS, Task
from .media import MEDIA_LOADERS, Audio, AudioServer, Images, ImageServer

LOADERS = ("jsonl", "json", "csv", "tsv", "txt")
DATASET_PREFIX = "dataset:"
# An old answer's own marks; read back as a question, it is answered afresh (and drawn by the recipe's view).
ANSWER_MARKS = ("_session_id", "_timestamp", "_annotator_id", "_view_id")
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
        raise UserError(f"'{source}' is a directory: pass a JSONL, JSON, CSV or TXT file, or read a folder "
                        f"of media with the loader {', '.join(MEDIA_LOADERS)}")
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


def read_csv(f: IO[bytes], name: str, delimiter: str = ",", input_key: str = "text") -> Iterator[tuple[int, Any]]:
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
    # Headers in any case, as Prodigy reads them (Text, TEXT); other columns keep theirs in meta.
    by_case = {c.lower(): c for c in reversed(fields)}
    column = by_case.get(input_key.lower())
    if column is None:
        raise UserError(f"no '{input_key}' column (found: {', '.join(fields) or 'no header'}): name the column with "
                        f"the {'text' if input_key == 'text' else 'input'} '{input_key}'", path=name, line=1)
    target = input_key if input_key in MEDIA_KEYS else "text"
    label, meta_column = by_case.get("label"), by_case.get("meta")
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
        task: dict[str, Any] = {target: row.pop(column)}
        if label is not None and (value := row.pop(label)):
            task["label"] = value
        meta = _csv_meta(row.pop(meta_column) if meta_column is not None else None)
        meta.update({k: v for k, v in row.items() if k and v not in (None, "")})
        if meta:
            task["meta"] = meta
        yield line, task


def _csv_meta(value: str | None) -> dict[str, Any]:
    # A 'meta' column may hold a JSON object of fields, or one value (a number, say); anything else is kept as text.
    if not value:
        return {}
    try:
        parsed = _loads(value)
    except (ValueError, RecursionError):
        return {"meta": value}
    return parsed if isinstance(parsed, dict) else {"meta": parsed}  # Prodigy's {"meta": {"meta": 0.1}}


def read_tsv(f: IO[bytes], name: str, input_key: str = "text") -> Iterator[tuple[int, Any]]:
    return read_csv(f, name, delimiter="\t", input_key=input_key)


def read_txt(f: IO[bytes], name: str, input_key: str = "text") -> Iterator[tuple[int, Any]]:
    for i, line in _lines(f, name):
        if isinstance(line, InvalidInput):
            yield i, line
            continue
        text = line.rstrip("\r\n")
        if text.strip():
            yield i, {input_key if input_key in MEDIA_KEYS else "text": text}  # a list of image URLs, say


READERS: dict[str, Callable[..., Iterator[tuple[int, Any]]]] = {
    "jsonl": read_jsonl, "json": read_json, "csv": read_csv, "tsv": read_tsv, "txt": read_txt,
}


def validate_task(task: Any, name: str, line: int, require_content: bool = True) -> Task:
    """Check one raw record; raise InvalidInput naming ``name:line`` if it can't be a task.

    Without ``require_content`` a record may hold neither text nor media: a recipe that builds
    the card itself (its html from ``item1`` and ``item2``, say) reads such records.
    """
    if isinstance(task, InvalidInput):
        raise task
    if not isinstance(task, dict):
        raise InvalidInput(f"expected a JSON object, got {type(task).__name__}", path=name, line=line)
    text = task.get("text")
    content = has_content(task)
    if text is None and not content and require_content:
        raise InvalidInput(f"no 'text' string in the task: every task needs one (or one of {', '.join(CONTENT_KEYS[:5])}, ...)",
                           path=name, line=line)
    if text is not None and not isinstance(text, str):
        raise InvalidInput("no 'text' string in the task: 'text' must be a string", path=name, line=line)
    if text is not None and not text.strip() and not content and require_content:
        raise InvalidInput("empty 'text': give the task some text or remove it", path=name, line=line)
    if "pattern" in task and not isinstance(task.get("label"), str):
        raise InvalidInput("a pattern needs a 'label' string: {\"label\": ..., \"pattern\": ...}", path=name, line=line)
    bad = unstorable(task)
    if bad:
        raise InvalidInput(bad, path=name, line=line)
    spans = task.get("spans", [])
    if not isinstance(spans, list):
        raise InvalidInput("'spans' must be a list", path=name, line=line)
    for span in spans:
        if not isinstance(span, dict):
            raise InvalidInput("each span must be an object with start, end and label", path=name, line=line)
        if text is None:
            continue  # spans of an image (boxes): no offsets to check
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
    source: str | Path | Iterable[Task],
    loader: str | None = None,
    *,
    input_key: str = "text",
    rehash: bool = False,
    dedup: bool = True,
    skip_invalid: bool = False,
    skipped: SkipCounter | None = None,
    api: Any = None,
    is_binary: bool = False,
    view_id: str | None = None,
    require_content: bool = True,
) -> Iterator[Task]:
    """A lazy, validated, hashed stream of tasks from ``source``, with Prodigy's arguments.

    ``source``: a file (by extension, or ``loader``: jsonl, json, csv, tsv, txt), ``-`` for stdin, a
    folder with the loader images, image-server, audio or audio-server, ``dataset:NAME`` (or
    ``dataset:NAME:accept``, ``:reject``, ``:ignore``) for a dataset's answers, or tasks already loaded.
    ``input_key``: the field (CSV column, any case) that holds each record's input; a text field
    becomes ``text``, a media one (image, audio, video, html) keeps its name. Bad records raise a
    one-line UserError naming file and line, unless ``skip_invalid``, which skips them and counts
    them in ``skipped``. A record needs text or media unless ``require_content`` is False (Prodigy's
    loaders read any object: the recipe makes the card). With ``dedup`` identical tasks are yielded once; ``rehash`` replaces the
    hashes records carry. A missing file or dataset is reported right away; records are read as consumed.
    ``is_binary`` and ``view_id`` are Prodigy's and change nothing here; ``api`` (Prodigy's
    removed remote sources) must be None.
    """
    if api is not None:
        raise UserError(f"get_stream(api={api!r}): loading from an API is not supported: load a file, or pass an iterable of tasks")
    if not isinstance(source, (str, Path)):
        return _stream(iter(source), "<stream>", None, input_key, rehash, dedup, skip_invalid, skipped or SkipCounter(), require_content)
    if str(source).startswith(DATASET_PREFIX):
        return _stream(read_dataset(str(source)), str(source), None, input_key, rehash, dedup, skip_invalid, skipped or SkipCounter(), require_content)
    loader = loader or guess_loader(source)
    if loader in MEDIA_LOADERS:
        tasks = MEDIA_LOADERS[loader](source)
        return _stream(tasks, str(source), None, input_key, rehash, dedup, skip_invalid, skipped or SkipCounter(), require_content)
    if loader not in READERS:
        raise UserError(f"Unknown loader '{loader}': use one of {', '.join((*LOADERS, *MEDIA_LOADERS))}")
    f = _open(source)
    name = "<stdin>" if str(source) == "-" else str(source)
    return _stream(f, name, READERS[loader], input_key, rehash, dedup, skip_invalid, skipped or SkipCounter(), require_content)


def read_dataset(source: str) -> Iterator[Task]:
    """The answers of ``dataset:NAME[:ANSWER]`` as tasks to annotate again, read lazily from the database
    binanno is using (``--db``, BINANNO_DB, else $BINANNO_HOME/binanno.db). An unknown dataset or answer
    is reported here, before any is read."""
    from .db import connect

    name, _, answer = source[len(DATASET_PREFIX):].partition(":")
    if not name:
        raise UserError(f"'{source}' names no dataset: write dataset:NAME, or dataset:NAME:accept (or :reject, :ignore)")
    if answer and answer not in ("accept", "reject", "ignore"):
        raise UserError(f"'{source}': unknown answer '{answer}': use dataset:{name}:accept, :reject or :ignore")
    db = connect()
    try:
        db.count(name)  # an unknown dataset raises here; a session's DATASET-NAME view is known
    except BaseException:
        db.close()
        raise
    return _answers_as_tasks(db, name, answer or None)


def _answers_as_tasks(db: Any, name: str, answer: str | None) -> Iterator[Task]:
    try:
        for task in db.get_answers(name, answer):  # queried at the first task, not when the recipe starts
            for key in ANSWER_MARKS:
                task.pop(key, None)  # type: ignore[misc]
            yield task
    finally:
        db.close()


def _stream(source: IO[bytes] | Iterator[Any], name: str, reader: Callable[..., Iterator[tuple[int, Any]]] | None,
            input_key: str, rehash: bool, dedup: bool, skip_invalid: bool, skipped: SkipCounter,
            require_content: bool = True) -> Iterator[Task]:
    seen: set[str] = set()
    with contextlib.ExitStack() as stack:
        if reader is None:
            records: Iterator[tuple[int, Any]] = enumerate(source, 1)  # type: ignore[arg-type]
        else:
            # The line readers make the input field themselves; JSON records are mapped below.
            keyed = {"input_key": input_key} if reader in (read_csv, read_tsv, read_txt) else {}
            records = reader(stack.enter_context(source), name, **keyed)  # type: ignore[arg-type]
        for line, raw in records:
            if input_key not in ("text", *MEDIA_KEYS) and isinstance(raw, dict) and input_key in raw and "text" not in raw:
                raw["text"] = raw.pop(input_key)  # Prodigy's input_key: the field with the text
            try:
                task = validate_task(raw, name, line, require_content)
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


def _loader(kind: str) -> Callable[[str | Path], Iterator[Task]]:
    def load(path: str | Path) -> Iterator[Task]:
        return get_stream(path, loader=kind, dedup=False, require_content=False)

    load.__name__ = load.__qualname__ = kind.upper()
    load.__doc__ = (f"Prodigy's {kind.upper()} loader: the validated, hashed records of a {kind.upper()} file, lazily "
                    "(duplicates kept; a record needs no text: the recipe may build the card from its fields).")
    return load


JSONL = _loader("jsonl")
JSON = _loader("json")
CSV = _loader("csv")
TXT = _loader("txt")

__all__ = ["CSV", "JSON", "JSONL", "TXT", "Audio", "AudioServer", "ImageServer", "Images", "SkipCounter", "get_stream",
           "guess_loader", "validate_task"]
