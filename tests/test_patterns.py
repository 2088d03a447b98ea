"""Pattern files and the PatternMatcher."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import spacy

from binanno.errors import UserError
from binanno.hashing import set_hashes
from binanno.models.patterns import PatternMatcher, load_patterns


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf8")
    return path


def test_load_patterns_reads_phrase_and_token_patterns(tmp_path: Path) -> None:
    path = write(
        tmp_path / "p.jsonl",
        [
            json.dumps({"label": "ORG", "pattern": "Acme Corp"}),
            "",
            json.dumps({"label": "ORG", "pattern": [{"LOWER": "globex"}], "id": "globex"}),
        ],
    )
    assert load_patterns(path) == [
        {"label": "ORG", "pattern": "Acme Corp"},
        {"label": "ORG", "pattern": [{"LOWER": "globex"}], "id": "globex"},
    ]


@pytest.mark.parametrize(
    "line, message",
    [
        ("{not json", "invalid JSON"),
        ('["ORG", "Acme"]', "JSON object"),
        ('{"pattern": "Acme"}', "'label'"),
        ('{"label": "ORG", "pattern": 3}', "'pattern' must be"),
        ('{"label": "ORG", "pattern": [{"LOWERR": "acme"}]}', "invalid token pattern"),
    ],
)
def test_bad_pattern_lines_name_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    path = write(tmp_path / "p.jsonl", [json.dumps({"label": "ORG", "pattern": "ok"}), line])
    with pytest.raises(UserError, match=message) as e:
        load_patterns(path)
    assert str(e.value).startswith(f"{path}:2: ")


def test_missing_patterns_file(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not found"):
        load_patterns(tmp_path / "nope.jsonl")


def test_matcher_yields_one_question_per_match() -> None:
    nlp = spacy.blank("en")
    patterns = [
        {"label": "ORG", "pattern": "Acme Corp"},
        {"label": "ORG", "pattern": [{"LOWER": "globex"}], "id": "globex"},
        {"label": "PERSON", "pattern": "Alice"},
    ]
    matcher = PatternMatcher(nlp, patterns, labels=["ORG"])
    assert len(matcher) == 2 and not matcher.needs_pipeline
    task = set_hashes({"text": "Acme Corp and GLOBEX met Alice.", "meta": {"id": 7}})
    out = list(matcher([task]))
    assert [(t["spans"][0]["start"], t["spans"][0]["end"], t["meta"]["pattern"]) for _, t in out] == [
        (0, 9, 0),
        (14, 20, "globex"),
    ]
    for score, question in out:
        assert score == question["meta"]["score"] == 0.5
        assert question["meta"]["id"] == 7 and question["_input_hash"] == task["_input_hash"]
        assert question["spans"][0]["token_start"] <= question["spans"][0]["token_end"]
    assert out[0][1]["_task_hash"] != out[1][1]["_task_hash"]


def test_answers_move_a_patterns_score() -> None:
    matcher = PatternMatcher(spacy.blank("en"), [{"label": "ORG", "pattern": "Acme"}])
    ((_, question),) = list(matcher([{"text": "Acme"}]))
    matcher.update([{**question, "answer": "reject"}] * 3)
    assert matcher.score(0) == pytest.approx(1 / 5)
    ((score, _),) = list(matcher([{"text": "Acme"}]))
    assert score == pytest.approx(0.2)


def test_patterns_on_tags_run_the_pipeline() -> None:
    matcher = PatternMatcher(spacy.blank("en"), [{"label": "X", "pattern": [{"POS": "PROPN"}]}])
    assert matcher.needs_pipeline


def test_bad_pattern_in_a_list_is_a_user_error() -> None:
    with pytest.raises(UserError, match="pattern 1"):
        PatternMatcher(spacy.blank("en"), [{"label": "X", "pattern": "a"}, {"label": "X"}])
