"""Read gold-annotated data for simulations: CoNLL or JSONL for NER, JSONL or TSV for textcat.

NER examples come back as tasks: ``{"text", "spans": [{"start", "end", "label"}]}``, the
text being the tokens joined by single spaces. Text-classification examples come back as
``{"text", "accept": [labels]}``. Every reader names the file and line of bad input.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator, cast

from .errors import UserError
from .types import Span, Task


def _lines(path: str | Path) -> Iterator[tuple[int, str]]:
    p = Path(path)
    if not p.is_file():
        raise UserError(f"Can't find gold file '{path}': check the path")
    with p.open(encoding="utf-8-sig") as f:
        for i, line in enumerate(f, 1):
            yield i, line.rstrip("\r\n")


def read_ner(path: str | Path) -> list[Task]:
    """Read a CoNLL file (``token TAG`` per line) or a JSONL file of tasks with ``spans``."""
    if Path(path).suffix.lower() in (".jsonl", ".json", ".ndjson"):
        return _read_ner_jsonl(path)
    return list(read_conll(path))


def read_conll(path: str | Path) -> Iterator[Task]:
    """Sentences of a CoNLL file: token and tag, tab or space separated, the tag last.

    Blank or whitespace-only lines separate sentences, ``-DOCSTART-`` lines are skipped and
    empty tokens dropped. Tags may be BIO, IOB1 (I- starts an entity unless it continues one
    of the same label) or IO (a run of I- tags is one entity); BILOU/BIOES also read.
    """
    tokens: list[tuple[str, str]] = []
    for i, line in _lines(path):
        if not line.strip():
            if tokens:
                yield _conll_task(tokens)
                tokens = []
            continue
        parts = line.split("\t") if "\t" in line else line.split()
        if parts[0].startswith("-DOCSTART-"):
            continue
        if len(parts) < 2:
            raise UserError(f"{path}, line {i}: expected a token and a tag separated by a tab or space, got {line!r}")
        token, tag = parts[0].strip(), parts[-1].strip()
        if tag != "O" and (len(tag) < 3 or tag[1] != "-" or tag[0] not in "BILUES"):
            raise UserError(f"{path}, line {i}: '{tag}' is not a tag: use O, or B-/I-/L-/U-/E-/S- and a label")
        if token:  # tokens that were newlines in the source are empty
            tokens.append((token, tag))
    if tokens:
        yield _conll_task(tokens)


def _conll_task(tokens: list[tuple[str, str]]) -> Task:
    text, spans, offset = [], [], 0
    current: dict[str, Any] | None = None
    for i, (token, tag) in enumerate(tokens):
        start, end = offset, offset + len(token)
        text.append(token)
        offset = end + 1
        prefix, label = (tag[0], tag[2:]) if tag != "O" else ("O", "")
        continues = current is not None and current["label"] == label and prefix in "ILE"
        if prefix == "O":
            current = None
        elif continues:
            assert current is not None
            current["end"], current["token_end"] = end, i
        else:
            current = {"start": start, "end": end, "token_start": i, "token_end": i, "label": label}
            spans.append(current)
        if prefix in "LUES":  # the end of an entity in BILOU / BIOES
            current = None
    return {"text": " ".join(text), "spans": [Span(**s) for s in spans]}  # type: ignore[typeddict-item]


def _read_ner_jsonl(path: str | Path) -> list[Task]:
    tasks = []
    for i, line in _lines(path):
        if not line.strip():
            continue
        task = _json(path, i, line)
        if not isinstance(task.get("text"), str):
            raise UserError(f"{path}, line {i}: a gold example needs a 'text' string")
        for span in task.get("spans") or []:
            if not (0 <= span.get("start", -1) < span.get("end", -1) <= len(task["text"])) or not span.get("label"):
                raise UserError(f"{path}, line {i}: span {span} needs a label and start < end within the text")
        tasks.append({"text": task["text"], "spans": [dict(s) for s in task.get("spans") or []]})
    return cast("list[Task]", tasks)


def read_textcat(path: str | Path) -> list[dict[str, Any]]:
    """Read JSONL with ``text`` and ``label`` (a string) or ``accept`` (a list), or ``label<TAB>text`` lines.

    Each example comes back as ``{"text", "accept": [labels it has]}``.
    """
    jsonl = Path(path).suffix.lower() in (".jsonl", ".json", ".ndjson")
    examples: list[dict[str, Any]] = []
    for i, line in _lines(path):
        if not line.strip():
            continue
        if jsonl:
            obj = _json(path, i, line)
            if not isinstance(obj.get("text"), str):
                raise UserError(f"{path}, line {i}: a gold example needs a 'text' string")
            accept = obj.get("accept")
            if accept is None:
                accept = [obj["label"]] if isinstance(obj.get("label"), str) and obj.get("answer", "accept") == "accept" else []
            if not isinstance(accept, list):
                raise UserError(f"{path}, line {i}: 'accept' must be a list of labels")
            examples.append({"text": obj["text"], "accept": list(accept)})
        else:
            label, sep, text = line.partition("\t")
            if not sep or not label.strip():
                raise UserError(f"{path}, line {i}: expected 'label<TAB>text' (or use a .jsonl file)")
            examples.append({"text": text, "accept": [label.strip()]})
    return examples


def _json(path: str | Path, line_no: int, line: str) -> dict[str, Any]:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as e:
        raise UserError(f"{path}, line {line_no}: invalid JSON ({e.msg})") from None
    if not isinstance(obj, dict):
        raise UserError(f"{path}, line {line_no}: expected a JSON object")
    return obj
