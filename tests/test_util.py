"""binanno.util: Prodigy's helpers at Prodigy's path, on real files and real models."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import pytest
import spacy

import binanno
from binanno import hashing
from binanno.components import combine
from binanno.errors import UserError
from binanno.models.matcher import PatternMatcher
from binanno.util import (
    INPUT_HASH_ATTR,
    TASK_HASH_ATTR,
    b64_uri_to_bytes,
    combine_models,
    get_labels,
    get_timestamp_session_id,
    log,
    msg,
    set_hashes,
    split_string,
)


def test_log_prints_only_when_logging_is_on(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    monkeypatch.delenv("BINANNO_LOGGING", raising=False)
    monkeypatch.delenv("PRODIGY_LOGGING", raising=False)
    log("RECIPE: quiet")
    assert capsys.readouterr().err == ""
    monkeypatch.setenv("PRODIGY_LOGGING", "basic")
    log("RECIPE: Starting", {"hidden": 1})
    err = capsys.readouterr().err
    assert "RECIPE: Starting" in err and "hidden" not in err
    monkeypatch.setenv("BINANNO_LOGGING", "verbose")
    log("RECIPE: Loaded", {"labels": ["ORG"]})
    assert "{'labels': ['ORG']}" in capsys.readouterr().err


def test_msg_is_a_wasabi_printer(capsys: Any) -> None:
    msg.good("Saved 3 answers")
    msg.fail("No such dataset")
    msg.divider("Stats")
    out = capsys.readouterr().out
    assert "Saved 3 answers" in out and "No such dataset" in out and "Stats" in out


def test_split_string_and_get_labels(tmp_path: Path) -> None:
    assert split_string(" PERSON, ORG,,GPE ") == ["PERSON", "ORG", "GPE"]
    assert binanno.split_string is split_string  # still exported at the top level
    assert get_labels("PERSON,ORG,PERSON") == ["PERSON", "ORG"]
    labels = tmp_path / "labels.txt"
    labels.write_text("SPORTS\n\nPOLITICS\n  TECH \n", encoding="utf8")
    assert get_labels(str(labels)) == ["SPORTS", "POLITICS", "TECH"]
    assert get_labels("JUST_ONE") == ["JUST_ONE"]  # a name that is no file is a label


def test_set_hashes_is_the_one_hashing_function() -> None:
    assert set_hashes is hashing.set_hashes is binanno.set_hashes
    task = set_hashes({"text": "Acme hires", "label": "BUSINESS"})
    assert isinstance(task[INPUT_HASH_ATTR], int) and isinstance(task[TASK_HASH_ATTR], int)
    other = set_hashes({"text": "Acme hires", "label": "SPORTS"})
    assert other[INPUT_HASH_ATTR] == task[INPUT_HASH_ATTR] and other[TASK_HASH_ATTR] != task[TASK_HASH_ATTR]
    # Prodigy's ``ignore``: keys left out of the hashes even where listed
    a = set_hashes({"text": "x", "meta": {"a": 1}}, input_keys=("text", "meta"), ignore=("meta",))
    b = set_hashes({"text": "x", "meta": {"a": 2}}, input_keys=("text", "meta"), ignore=("meta",))
    assert a[INPUT_HASH_ATTR] == b[INPUT_HASH_ATTR]


def test_b64_uri_to_bytes(tmp_path: Path) -> None:
    data = bytes(range(256))
    uri = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
    assert b64_uri_to_bytes(uri) == data
    with pytest.raises(UserError, match="data URI"):
        b64_uri_to_bytes("https://example.com/cat.png")


def test_get_timestamp_session_id() -> None:
    assert re.fullmatch(r"\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d", get_timestamp_session_id())


def test_combine_models_gives_both_models_every_batch(tmp_path: Path) -> None:
    assert combine_models is combine.combine_models  # one home, imported at Prodigy's path
    nlp = spacy.blank("en")
    patterns = tmp_path / "fruit.jsonl"
    patterns.write_text('{"label": "FRUIT", "pattern": "pear"}\n', encoding="utf8")
    fruit = PatternMatcher(nlp).from_disk(patterns)
    city = PatternMatcher(nlp, [{"label": "CITY", "pattern": "Paris"}])
    predict, update = combine_models(fruit, city, batch_size=2)
    scored = list(predict([{"text": "A pear in Paris"}, {"text": "Nothing here"}, {"text": "Paris again"}]))
    labels = [task["spans"][0]["label"] for _, task in scored]
    assert labels == ["FRUIT", "CITY", "CITY"]
    update([{**task, "answer": "accept"} for _, task in scored])
    assert fruit.score(0) > 0.5 and city.score(0) > 0.5


def test_prodigy_types_and_jsonl_helpers(tmp_path: Path) -> None:
    from binanno.types import RecipeSettingsType, Task, TaskType
    from binanno.util import read_jsonl, write_jsonl

    assert TaskType is Task and RecipeSettingsType == dict[str, Any]
    write_jsonl(tmp_path / "x.jsonl", [{"text": "a"}, {"text": "b"}])
    assert [t["text"] for t in read_jsonl(tmp_path / "x.jsonl")] == ["a", "b"]
