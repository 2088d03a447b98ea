"""binanno.components.stream: Prodigy's Stream and get_stream, on a real JSONL file and spacy.blank."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Iterator

import spacy
from conftest import write_jsonl

from binanno.components.preprocess import add_tokens
from binanno.components.stream import Stream, get_stream


def shout(stream: Iterable[dict[str, Any]], suffix: str = "!") -> Iterator[dict[str, Any]]:
    for task in stream:
        yield {**task, "text": task["text"].upper() + suffix}


def test_get_stream_gives_a_stream_that_steps_apply_to_in_place(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", [{"text": "one two"}, {"text": "three"}])
    stream = get_stream(str(source))
    assert isinstance(stream, Stream)
    # The three spellings of Prodigy's recipes: the stream by keyword, positional, or implicit first.
    stream.apply(add_tokens, nlp=spacy.blank("en"), stream=stream)
    stream.apply(shout, stream, "?")
    assert stream.apply(shout) is stream
    tasks = list(stream)
    assert [t["text"] for t in tasks] == ["ONE TWO?!", "THREE?!"]
    assert [tok["text"] for tok in tasks[0]["tokens"]] == ["one", "two"]


def test_a_stream_is_lazy_and_keeps_its_source_iterator() -> None:
    read: list[int] = []

    def source() -> Iterator[dict[str, Any]]:
        for i in range(1000):
            read.append(i)
            yield {"text": str(i)}

    stream = Stream(source()).apply(shout)
    assert read == []
    it = iter(stream)
    assert next(it)["text"] == "0!" and read == [0]
    listed = Stream([{"text": "x"}])  # a list is a finite stream
    assert list(listed) == [{"text": "x"}]
