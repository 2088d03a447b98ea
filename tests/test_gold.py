"""Gold readers: CoNLL in its dialects, JSONL spans, textcat JSONL and TSV, and their errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from binanno.errors import UserError
from binanno.gold import read_conll, read_ner, read_textcat


def ents(task: dict) -> list[tuple[str, str]]:
    return [(task["text"][s["start"] : s["end"]], s["label"]) for s in task["spans"]]


def test_bio_with_docstart_blank_and_whitespace_lines_and_empty_tokens(tmp_path: Path) -> None:
    path = tmp_path / "a.conll"
    path.write_text("-DOCSTART- O\n\nBarack\tB-PER\nObama\tI-PER\n\tO\nvisited\tO\nNew\tB-LOC\nYork\tI-LOC\n"
                    "\t\nAcme B-ORG\nCorp I-ORG\nand O\nAcme B-ORG\n   \n")
    first, second = read_conll(path)
    assert first["text"] == "Barack Obama visited New York"
    assert ents(first) == [("Barack Obama", "PER"), ("New York", "LOC")]
    assert first["spans"][0]["token_start"] == 0 and first["spans"][0]["token_end"] == 1
    assert ents(second) == [("Acme Corp", "ORG"), ("Acme", "ORG")]


def test_iob1_and_io_runs(tmp_path: Path) -> None:
    path = tmp_path / "b.txt"
    # IOB1: I- starts an entity, B- only separates two adjacent ones of the same label.
    path.write_text("Alice I-PER\nBob B-PER\nCarter I-PER\nin O\nParis I-LOC\nFrance I-LOC\nLondon I-ORG\n")
    (task,) = read_conll(path)
    assert ents(task) == [("Alice", "PER"), ("Bob Carter", "PER"), ("Paris France", "LOC"), ("London", "ORG")]


def test_bilou(tmp_path: Path) -> None:
    path = tmp_path / "c.conll"
    path.write_text("New B-LOC\nYork L-LOC\nParis U-LOC\nRome U-LOC\n")
    (task,) = read_conll(path)
    assert ents(task) == [("New York", "LOC"), ("Paris", "LOC"), ("Rome", "LOC")]


def test_real_btc_and_wnut17_files_read() -> None:
    data = Path(__file__).resolve().parents[2] / "shared" / "data"
    if not data.exists():
        pytest.skip("../shared/data is not beside the checkout")
    btc = read_ner(data / "btc" / "btc.dev")
    # 1,001 tweets, one of which is only an empty token (a newline in the source): dropped.
    assert len(btc) == 1000 and sum(len(t["spans"]) for t in btc) == 1730
    wnut = read_ner(data / "wnut17" / "wnut17train.conll")
    assert len(wnut) == 3394 and sum(len(t["spans"]) for t in wnut) == 1975
    assert all(t["text"] == t["text"].strip() and "  " not in t["text"] for t in btc)


def test_bad_conll_lines_name_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.conll"
    path.write_text("Alice B-PER\nBob PERSON\n")
    with pytest.raises(UserError, match=r"bad.conll, line 2: 'PERSON' is not a tag"):
        read_ner(path)
    path.write_text("Alice B-PER\nBob\n")
    with pytest.raises(UserError, match="line 2: expected a token and a tag"):
        read_ner(path)
    with pytest.raises(UserError, match="Can't find gold file"):
        read_ner(tmp_path / "missing.conll")


def test_jsonl_ner_spans_are_checked(tmp_path: Path) -> None:
    path = tmp_path / "g.jsonl"
    path.write_text('{"text": "Alice met Bob", "spans": [{"start": 0, "end": 5, "label": "PER"}]}\n\n'
                    '{"text": "x", "spans": [{"start": 0, "end": 9, "label": "PER"}]}\n')
    with pytest.raises(UserError, match="line 3: span"):
        read_ner(path)
    path.write_text('{"text": "Alice met Bob", "spans": [{"start": 0, "end": 5, "label": "PER"}]}\n{oops\n')
    with pytest.raises(UserError, match="line 2: invalid JSON"):
        read_ner(path)


def test_textcat_jsonl_and_tsv(tmp_path: Path) -> None:
    jsonl = tmp_path / "t.jsonl"
    jsonl.write_text('{"text": "win cash", "label": "spam"}\n{"text": "hi mum", "accept": []}\n'
                     '{"text": "both", "accept": ["a", "b"]}\n{"text": "no", "label": "spam", "answer": "reject"}\n')
    assert [t["accept"] for t in read_textcat(jsonl)] == [["spam"], [], ["a", "b"], []]  # type: ignore[typeddict-item]
    tsv = tmp_path / "SMSSpamCollection"
    tsv.write_text("ham\tsee you at 5\nspam\tWIN a prize\ttoday\n")
    assert read_textcat(tsv) == [{"text": "see you at 5", "accept": ["ham"]}, {"text": "WIN a prize\ttoday", "accept": ["spam"]}]
    tsv.write_text("ham see you\n")
    with pytest.raises(UserError, match="line 1: expected 'label<TAB>text'"):
        read_textcat(tsv)
