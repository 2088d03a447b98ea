"""Input and task hashes: canonical JSON, the same on every run and machine."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterable, Iterator

import pytest
from conftest import write_jsonl

from binanno.components.loaders import get_stream
from binanno.components.rescore import Rescorer
from binanno.hashing import hash_record, input_hash, set_hashes
from binanno.models.patterns import question_base

TEXT = "Apple buys a startup"
ORG = {"start": 0, "end": 5, "label": "ORG"}
MISC = {"start": 13, "end": 20, "label": "MISC"}


def test_pinned_values() -> None:
    # These numbers are stored in users' databases: changing them makes every stored answer
    # look new. Only change them on purpose, with a migration.
    assert hash_record({"text": "hello"}) == -892079933
    assert hash_record([1, "a", None]) == 592968245
    assert hash_record({"b": 1, "a": "é"}) == -1600803170
    assert set_hashes({"text": TEXT}) == {"text": TEXT, "_input_hash": 957629723, "_task_hash": 728401915}
    assert set_hashes({"text": TEXT, "spans": [dict(ORG)]})["_task_hash"] == 1648133717
    assert set_hashes({"text": TEXT, "label": "TECH"})["_task_hash"] == -272168714


def test_same_values_in_a_fresh_process_with_another_hash_seed() -> None:
    code = ("import json; from binanno.hashing import set_hashes; "
            f"print(json.dumps(set_hashes({{'text': {TEXT!r}, 'spans': [{ORG!r}]}})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONHASHSEED": "12345"}).stdout
    here = set_hashes({"text": TEXT, "spans": [dict(ORG)]})
    assert json.loads(out) == here


def test_hash_is_canonical_json() -> None:
    assert hash_record({"a": 1, "b": [1, 2]}) == hash_record({"b": [1, 2], "a": 1})
    assert hash_record({"a": 1}) != hash_record({"a": "1"})
    assert hash_record([1, 2]) != hash_record([2, 1])


@pytest.mark.parametrize("obj", [{"text": "x"}, "é" * 1000, [None, True, 1.5], {}])
def test_hash_is_a_signed_32_bit_int(obj: object) -> None:
    value = hash_record(obj)
    assert isinstance(value, int) and -(2 ** 31) <= value < 2 ** 31


def test_span_order_does_not_change_the_task_hash() -> None:
    one = set_hashes({"text": TEXT, "spans": [dict(ORG), dict(MISC)]})
    two = set_hashes({"text": TEXT, "spans": [dict(MISC), dict(ORG)]})
    assert one["_task_hash"] == two["_task_hash"]
    assert one["_input_hash"] == two["_input_hash"]


def test_meta_scores_and_span_extras_do_not_change_the_task_hash() -> None:
    plain = set_hashes({"text": TEXT, "spans": [dict(ORG)], "label": "TECH"})
    decorated = set_hashes({
        "text": TEXT, "label": "TECH", "meta": {"score": 0.42, "source": "news"}, "answer": "accept",
        "spans": [{**ORG, "token_start": 0, "token_end": 0, "text": "Apple", "score": 0.9}],
        "_session_id": "alex", "_view_id": "ner",
    })
    assert decorated["_task_hash"] == plain["_task_hash"]
    assert decorated["_input_hash"] == plain["_input_hash"]


@pytest.mark.parametrize("change", [
    {"spans": [{**ORG, "label": "PERSON"}]},  # another label on the same span
    {"spans": [{**ORG, "end": 4}]},  # other offsets
    {"spans": [dict(ORG), dict(MISC)]},  # one more span
    {"spans": [dict(ORG)], "label": "TECH"},  # a label as well
])
def test_different_labels_or_spans_change_the_task_hash(change: dict[str, object]) -> None:
    base = set_hashes({"text": TEXT, "spans": [dict(ORG)]})
    other = set_hashes({"text": TEXT, **copy.deepcopy(change)})
    assert other["_task_hash"] != base["_task_hash"]
    assert other["_input_hash"] == base["_input_hash"]


def test_text_labels_give_different_task_hashes() -> None:
    a = set_hashes({"text": TEXT, "label": "TECH"})
    b = set_hashes({"text": TEXT, "label": "SPORT"})
    assert a["_task_hash"] != b["_task_hash"] and a["_input_hash"] == b["_input_hash"]


def test_input_hash_comes_from_the_text() -> None:
    assert set_hashes({"text": "a"})["_input_hash"] == hash_record({"text": "a"})
    assert set_hashes({"text": "a"})["_input_hash"] != set_hashes({"text": "b"})["_input_hash"]
    with_meta = set_hashes({"text": "a", "meta": {"id": 7}, "label": "X"})
    assert with_meta["_input_hash"] == hash_record({"text": "a"})
    # the same question about another text is another task
    assert set_hashes({"text": "a", "label": "X"})["_task_hash"] != set_hashes({"text": "b", "label": "X"})["_task_hash"]


def test_existing_hashes_are_kept_unless_overwrite() -> None:
    task = {"text": "a", "_input_hash": 1, "_task_hash": 2}
    assert set_hashes(dict(task))["_task_hash"] == 2
    fresh = set_hashes(dict(task), overwrite=True)
    assert fresh["_input_hash"] == hash_record({"text": "a"})
    assert fresh["_task_hash"] == set_hashes({"text": "a"})["_task_hash"]


def test_set_hashes_fills_in_the_task_it_is_given() -> None:
    task = {"text": "a"}
    assert set_hashes(task) is task and "_task_hash" in task


def test_custom_keys() -> None:
    a = set_hashes({"text": "a", "meta": {"id": 1}}, input_keys=("text", "meta"))
    b = set_hashes({"text": "a", "meta": {"id": 2}}, input_keys=("text", "meta"))
    assert a["_input_hash"] != b["_input_hash"]


# Records without text: an image, an html card, a pattern, a question with its context.
WITHOUT_TEXT = [{"image": "data:image/png;base64,iVBORw0KGgo=", "label": "CAT"}, {"html": "<p>A <b>cat</b></p>"},
                {"label": "ORG", "pattern": [{"lower": "acme"}]}, {"question": "Who came?", "context": "Alice came."}]


def test_a_record_without_text_has_the_loaders_input_hash_everywhere(tmp_path: Path) -> None:
    loaded = [t["_input_hash"] for t in get_stream(write_jsonl(tmp_path / "mixed.jsonl", WITHOUT_TEXT))]
    assert len(set(loaded)) == len(WITHOUT_TEXT)
    assert [input_hash(copy.deepcopy(r)) for r in WITHOUT_TEXT] == loaded
    assert [question_base(copy.deepcopy(r))["_input_hash"] for r in WITHOUT_TEXT] == loaded
    # The rescorer keys what it scores again by input: each record is scored, with its input and hash.
    seen: list[dict[str, Any]] = []

    def scorer(stream: Iterable[Any]) -> Iterator[tuple[float, Any]]:
        for task in stream:
            seen.append(task)
            yield 0.5, task

    Rescorer(scorer, lambda answers: None).score([copy.deepcopy(r) for r in WITHOUT_TEXT])
    assert [t["_input_hash"] for t in seen] == loaded
    assert [{k: v for k, v in t.items() if k != "_input_hash"} for t in seen] == \
        [{k: v for k, v in r.items() if k != "label"} for r in WITHOUT_TEXT]


def test_the_models_key_answers_by_the_loaders_input_hash(tmp_path: Path) -> None:
    from fixtures_hf import tiny_bert_dir

    from binanno.models.hf_ner import HFNER
    from binanno.models.spacy_ner import SpacyNER
    from binanno.models.textcat_answers import LabelMemory

    record = {"text": "Alice met Bob.", "html": "<p>Alice met <b>Bob</b>.</p>"}
    (task,) = get_stream(write_jsonl(tmp_path / "card.jsonl", [record]))
    # Answers without hashes, as a recipe may pass them to a model's update.
    span = {**record, "spans": [{"start": 0, "end": 5, "label": "PERSON"}], "answer": "accept"}
    assert SpacyNER.load("blank:en", ["PERSON"]).remember([span]) == [task["_input_hash"]]
    assert HFNER.load(tiny_bert_dir(), ["PERSON"]).remember([span]) == [task["_input_hash"]]
    assert LabelMemory(["PERSON"]).add([{**record, "label": "PERSON", "answer": "accept"}]) == [task["_input_hash"]]
